package events

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/events.md from the Go types")

// docs/events.md is generated from the registered payload types; this test
// fails when they drift apart (run `go test ./events -update` to refresh).
func TestEventCatalogueIsCurrent(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Event catalogue\n\n")
	b.WriteString("Generated from the Go types in `events/` by `go test ./events -update`; a test fails when it is stale.\n")
	b.WriteString("Every event of a load balancer graph is stored in the stream `loadbalancer-<id>` inside the envelope\n")
	b.WriteString("(`id, stream, version, position, type, schema_version, time, actor{project_id,user_id,request_id},\n")
	b.WriteString("correlation_id, causation_id, data`). Names never change; a changed payload gets a new schema version\n")
	b.WriteString("and an upcaster. No event carries a secret: TLS material is referenced by container ref only.\n\n")
	b.WriteString("| type | schema | Go type | data fields |\n|---|---|---|---|\n")
	for _, r := range allEvents() {
		t := reflect.TypeOf(r.event)
		fmt.Fprintf(&b, "| `%s` | %d | `%s` | %s |\n", r.event.EventType(), r.schemaVersion, t.Name(), fields(t))
	}
	b.WriteString("\n## Resource specs carried by the events\n\n")
	for _, v := range []any{LoadBalancer{}, Listener{}, Pool{}, SessionPersistence{}, Member{}, HealthMonitor{}, Amphora{}, AdditionalVip{}} {
		t := reflect.TypeOf(v)
		fmt.Fprintf(&b, "- `%s`: %s\n", t.Name(), fields(t))
	}
	got := b.String()
	const path = "../docs/events.md"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("docs/events.md is stale: run `go test ./events -update` (read error: %v)", err)
	}
}

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
