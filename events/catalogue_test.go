package events

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/events.md and docs/events.schema.json from the Go types")

const (
	cataloguePath = "../docs/events.md"
	schemaPath    = "../docs/events.schema.json"
)

// docs/events.md and docs/events.schema.json are generated from the
// registered payload types and their doc comments; this test fails when
// they drift apart (run `go test ./events -update` to refresh).
func TestEventCatalogueIsCurrent(t *testing.T) {
	docs, err := readDocComments(".")
	if err != nil {
		t.Fatal(err)
	}
	md, schema, err := catalogue(docs)
	if err != nil {
		t.Fatal(err)
	}
	for path, got := range map[string][]byte{cataloguePath: md, schemaPath: schema} {
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(want, got) {
			t.Errorf("%s is stale: run `go test ./events -update` (read error: %v)", path, err)
		}
	}
}

// The catalogue lists what the registry decodes, no more, no less.
func TestCatalogueMatchesRegistry(t *testing.T) {
	var names []string
	for _, r := range allEvents() {
		names = append(names, r.event.EventType())
	}
	slices.Sort(names)
	if got := NewRegistry().Types(); !slices.Equal(got, names) {
		t.Errorf("registry types %v, catalogue %v", got, names)
	}
}

// catalogue renders docs/events.md and the JSON Schema document.
func catalogue(docs docComments) (md, schema []byte, err error) {
	g := newSchemaGen(docs)
	envelope := g.object(reflect.TypeOf(Envelope{}))
	envelope["description"] = docs.typ("Envelope")
	payloads := map[string]map[string]any{}
	for _, r := range allEvents() {
		t := reflect.TypeOf(r.event)
		s := g.object(t)
		if d := docs.typ(t.Name()); d != "" {
			s["description"] = d
		}
		payloads[t.Name()] = s
	}

	// The machine-readable document: the envelope, its data checked
	// against the payload schema of its type at its current version.
	var conds []any
	defs := map[string]any{}
	for name, d := range g.defs {
		defs[name] = d
	}
	for _, r := range allEvents() {
		name := reflect.TypeOf(r.event).Name()
		defs[name] = payloads[name]
		conds = append(conds, map[string]any{
			"if": map[string]any{"required": []string{"type", "schema_version"}, "properties": map[string]any{
				"type": map[string]any{"const": r.event.EventType()}, "schema_version": map[string]any{"const": r.schemaVersion}}},
			"then": map[string]any{"properties": map[string]any{"data": map[string]any{"$ref": "#/$defs/" + name}}},
		})
	}
	doc := map[string]any{}
	for k, v := range envelope {
		doc[k] = v
	}
	for k, v := range map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "urn:octavia-es:events:envelope",
		"title":       "octavia-es event envelope",
		"description": "An event as stored and as published on the bus. data is checked against the payload of its type at its current schema version; an event stored at an older schema version is published as stored (see docs/events.md).",
		"allOf":       conds,
		"$defs":       defs,
	} {
		doc[k] = v
	}
	if schema, err = json.MarshalIndent(doc, "", "  "); err != nil {
		return nil, nil, err
	}
	schema = append(schema, '\n')

	var b strings.Builder
	b.WriteString("# Event catalogue\n\n")
	b.WriteString("Generated from the Go types and doc comments in `events/` by `go test ./events -update`, with\n")
	b.WriteString("[events.schema.json](events.schema.json) (the same schemas in one JSON Schema document); a test fails when\n")
	b.WriteString("either is stale.\n\n")
	b.WriteString("Every event of a load balancer graph is stored in the stream `loadbalancer-<id>` inside the envelope\n")
	b.WriteString("below. Names never change; a changed payload gets a new schema version and an upcaster. No event\n")
	b.WriteString("carries a secret: TLS material is referenced by container ref only.\n\n")
	b.WriteString("| type | schema | Go type | data fields |\n|---|---|---|---|\n")
	for _, r := range allEvents() {
		t := reflect.TypeOf(r.event)
		fmt.Fprintf(&b, "| `%s` | %d | `%s` | %s |\n", r.event.EventType(), r.schemaVersion, t.Name(), fields(t))
	}
	b.WriteString(publication)
	b.WriteString("\n## The envelope\n\n")
	b.WriteString("The payload of every bus message and each line of `octavia-es events export --raw`; the event history\n")
	b.WriteString("API and the SSE stream show items built from it, with `data` upcast (docs/events-api.md).\n\n")
	if err := writeJSON(&b, envelope); err != nil {
		return nil, nil, err
	}
	b.WriteString("\n## Payloads\n\n")
	b.WriteString("The schema of `data` for each type at its current schema version. `$ref`s name the definitions at the\n")
	b.WriteString("end. A field listed in `required` is always present (possibly `null` where the type allows it).\n")
	for _, r := range allEvents() {
		t := reflect.TypeOf(r.event)
		fmt.Fprintf(&b, "\n### `%s`\n\nschema version %d, Go type `%s`", r.event.EventType(), r.schemaVersion, t.Name())
		if d := docs.typ(t.Name()); d != "" {
			fmt.Fprintf(&b, ". %s", d)
		}
		b.WriteString("\n\n")
		shown := map[string]any{}
		for k, v := range payloads[t.Name()] {
			if k != "description" { // said above
				shown[k] = v
			}
		}
		if err := writeJSON(&b, shown); err != nil {
			return nil, nil, err
		}
	}
	b.WriteString("\n## Definitions\n\nThe resource specs the payloads carry: ")
	var names []string
	for name := range g.defs {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s`", name)
	}
	b.WriteString(".\n\n")
	if err := writeJSON(&b, map[string]any{"$defs": g.defs}); err != nil {
		return nil, nil, err
	}
	return []byte(b.String()), schema, nil
}

func writeJSON(b *strings.Builder, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b.WriteString("```json\n")
	b.Write(data)
	b.WriteString("\n```\n")
	return nil
}

// publication describes the bus messages (adapters/bus); the names it
// quotes are checked against that package by cmd/octavia-es's tests.
const publication = `
## Publication for other services

Every stored event is published on the message bus (watermill) by the forwarder (` + "`adapters/bus`" + `), which
follows the event store from its checkpoint:

- **topic**: ` + "`octavia-es.events`" + ` (the bus topic of the configuration);
- **message UUID**: the event's ` + "`id`" + `;
- **payload**: the envelope as JSON, exactly as stored (schema below): ` + "`data`" + ` is at the stored
  ` + "`schema_version`" + `, not upcast — a consumer that may meet an older version handles it by ` + "`schema_version`" + `
  (or reads the event history API, which upcasts);
- **metadata**: ` + "`type`" + ` (the event type), ` + "`stream`" + `, ` + "`position`" + ` (decimal), and ` + "`correlation_id`" + `
  (watermill's correlation key) when the event has one, so a consumer can filter without decoding the payload.

Delivery is at least once and unordered: the forwarder publishes before it advances its checkpoint, so a
crash republishes the tail, and consumers run concurrently. Deduplicate by ` + "`id`" + ` (or ` + "`stream`" + ` +
` + "`version`" + `), order by ` + "`position`" + ` (global, gap-free) or ` + "`version`" + ` (per stream). A consumer that needs every
event once and in order reads the SSE stream ` + "`GET /v2/lbaas/events/stream`" + ` or the global feed
` + "`GET /v2/octavia/events`" + ` instead (docs/events-api.md), resuming from the last position it processed.

With the embedded transport (watermill GoChannel) the bus is in-process: only octavia-es's own consumers
(the sagas) see it; other services subscribe through a broker transport (NATS JetStream, RabbitMQ,
PostgreSQL) in their own consumer group, or use the SSE stream.

Compatibility: event names never change; fields may be added (ignore the ones you do not know); a field
removed, renamed or retyped makes a new ` + "`schema_version`" + ` of the type, with an upcaster from the previous one.
`

func fields(t reflect.Type) string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, fmt.Sprintf("`%s` %s", name, typeName(f.Type)))
	}
	return strings.Join(out, ", ")
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem()) + "?"
	case reflect.Slice:
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		return "map[" + typeName(t.Key()) + "]" + typeName(t.Elem())
	}
	return t.Name()
}
