package eventstoredb

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/events"
)

func TestIDFor(t *testing.T) {
	canonical := "0b6c7f8e-2d4f-4c52-9e0e-5d1b0a7c1234"
	cases := []struct {
		id   string
		same bool // the EventStoreDB id is the id itself
	}{
		{canonical, true},
		{strings.ToUpper(canonical), false},
		{"{" + canonical + "}", false},
		{"evt-1", false},
	}
	for _, c := range cases {
		u, keep := idFor(c.id)
		if keep == c.same || (u.String() == c.id) != c.same {
			t.Errorf("idFor(%q) = %s, keep %v; want the id itself: %v", c.id, u, keep, c.same)
		}
		if again, _ := idFor(c.id); again != u {
			t.Errorf("idFor(%q) not deterministic: %s then %s", c.id, u, again)
		}
	}
	if a, _ := idFor("evt-1"); a == func() uuid.UUID { b, _ := idFor("evt-2"); return b }() {
		t.Error("distinct ids derived the same EventStoreDB id")
	}
}

// recorded is what the server would hand back for data written to the
// store's stream at revision rev and log position pos.
func recorded(names naming, stream string, rev, pos uint64, d esdb.EventData) *esdb.RecordedEvent {
	return &esdb.RecordedEvent{
		EventID: d.EventID, EventType: d.EventType, ContentType: "application/json",
		StreamID: names.namespace + stream, EventNumber: rev,
		Position:    esdb.Position{Commit: pos, Prepare: pos},
		CreatedDate: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Data:        d.Data, UserMetadata: d.Metadata,
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	names := naming{namespace: "ns-", prefix: "loadbalancer-"}
	cases := []struct {
		name string
		in   events.Envelope
	}{
		{"every field", events.Envelope{
			ID: "0b6c7f8e-2d4f-4c52-9e0e-5d1b0a7c1234", Type: "loadbalancer.create_requested", SchemaVersion: 3,
			Time:          time.Date(2024, 2, 29, 23, 59, 58, 123456789, zone),
			Actor:         events.Actor{ProjectID: "p-1", UserID: "u-ü", RequestID: "req-1"},
			CorrelationID: "corr-1", CausationID: "cause-1",
			Data: json.RawMessage(`{"z": 1,"a" :[true, null, "é\u00e9"],  "n":{"x":-0.5e3}}`),
		}},
		{"bare", events.Envelope{ID: "a5f8b6a2-0000-4000-8000-000000000001", Type: "x", SchemaVersion: 1,
			Time: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), Data: json.RawMessage(`{}`)}},
		{"id not a UUID, schema 0", events.Envelope{ID: "evt-42", Type: "x", SchemaVersion: 0,
			Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Data: json.RawMessage(`[1]`)}},
	}
	for _, c := range cases {
		data, err := encode("loadbalancer-1", []events.Envelope{c.in}, time.Now())
		if err != nil {
			t.Fatalf("%s: encode: %v", c.name, err)
		}
		if data[0].ContentType != esdb.ContentTypeJson || data[0].EventType != c.in.Type || string(data[0].Data) != string(c.in.Data) {
			t.Errorf("%s: event data %+v", c.name, data[0])
		}
		got, err := decode(names, recorded(names, "loadbalancer-1", 6, 90210, data[0]))
		if err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		want := c.in
		want.Stream, want.Version, want.Position, want.Time = "loadbalancer-1", 7, 90210, c.in.Time.UTC()
		if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
			t.Errorf("%s: time %v, want %v in UTC", c.name, got.Time, want.Time)
		}
		got.Time, want.Time = time.Time{}, time.Time{}
		if string(got.Data) != string(want.Data) {
			t.Errorf("%s: data %s, want %s", c.name, got.Data, want.Data)
		}
		got.Data, want.Data = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v\nwant %+v", c.name, got, want)
		}
	}
}

// The metadata's layout is documented (docs/eventstore-eventstoredb.md)
// and other tools read it: pin it.
func TestEncodeMetadataLayout(t *testing.T) {
	in := events.Envelope{
		ID: "evt-1", Type: "x", SchemaVersion: 2,
		Time:  time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("", 5*3600+1800)),
		Actor: events.Actor{ProjectID: "p"}, CorrelationID: "c", CausationID: "k",
		Data: json.RawMessage(`{}`),
	}
	data, err := encode("s", []events.Envelope{in}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt-1","schema_version":2,"time":"2024-02-29T18:29:58.123456789Z","actor":{"project_id":"p"},"$correlationId":"c","$causationId":"k"}`
	if string(data[0].Metadata) != want {
		t.Errorf("metadata\n%s\nwant\n%s", data[0].Metadata, want)
	}
	in.ID, in.Actor, in.CorrelationID, in.CausationID = "0b6c7f8e-2d4f-4c52-9e0e-5d1b0a7c1234", events.Actor{}, "", ""
	if data, _ = encode("s", []events.Envelope{in}, time.Now()); string(data[0].Metadata) != `{"schema_version":2,"time":"2024-02-29T18:29:58.123456789Z"}` {
		t.Errorf("bare metadata %s", data[0].Metadata)
	}
}

func TestEncodeRejects(t *testing.T) {
	good := events.Envelope{Type: "x", SchemaVersion: 1, Data: json.RawMessage(`{}`)}
	noType, badJSON, noData, farFuture := good, good, good, good
	noType.Type = ""
	badJSON.Data = json.RawMessage(`{"n":`)
	noData.Data = nil
	farFuture.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, ev := range map[string]events.Envelope{"no type": noType, "bad JSON": badJSON, "nil data": noData, "year 10000": farFuture} {
		if got, err := encode("s", []events.Envelope{good, ev}, time.Now()); err == nil || got != nil {
			t.Errorf("%s: encode = %d events, %v; want an error and nothing", name, len(got), err)
		}
	}
}

func TestEncodeAssignsIDAndTime(t *testing.T) {
	now := time.Date(2025, 5, 5, 5, 5, 5, 5, time.UTC)
	data, err := encode("s", []events.Envelope{{Type: "x", Data: json.RawMessage(`{}`)}, {Type: "x", Data: json.RawMessage(`{}`)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if data[0].EventID == data[1].EventID || data[0].EventID.Version() != 7 {
		t.Errorf("assigned ids %s, %s: want distinct v7 UUIDs", data[0].EventID, data[1].EventID)
	}
	var md metadata
	if err := json.Unmarshal(data[0].Metadata, &md); err != nil || md.ID != "" || md.Time == nil || !md.Time.Equal(now) {
		t.Errorf("metadata %s (%v): want the time given and no separate id", data[0].Metadata, err)
	}
}

func TestDecodeForeignEvent(t *testing.T) {
	names := naming{prefix: "loadbalancer-"}
	id := uuid.New()
	r := &esdb.RecordedEvent{EventID: id, EventType: "imported", StreamID: "loadbalancer-9", EventNumber: 0,
		Position:    esdb.Position{Commit: unknownPosition, Prepare: 777},
		CreatedDate: time.Date(2020, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3600)), Data: []byte(`{"k":1}`)}
	got, err := decode(names, r)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id.String() || got.SchemaVersion != 1 || !got.Time.Equal(r.CreatedDate) || got.Time.Location() != time.UTC ||
		got.Position != 777 || got.Version != 1 || got.Stream != "loadbalancer-9" || got.Actor != (events.Actor{}) {
		t.Errorf("decoded %+v", got)
	}
	r.Data = []byte{}
	if got, err = decode(names, r); err != nil {
		t.Fatal(err)
	}
	if b, err := json.Marshal(got); err != nil || !strings.Contains(string(b), `"data":null`) {
		t.Errorf("an event without data encodes as %s, %v; want data null", b, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	names := naming{namespace: "ns-", prefix: "loadbalancer-"}
	base := func() *esdb.RecordedEvent {
		return &esdb.RecordedEvent{EventID: uuid.New(), EventType: "x", StreamID: "ns-loadbalancer-1",
			Position: esdb.Position{Commit: 10, Prepare: 10}, Data: []byte(`{}`), UserMetadata: []byte(`{"schema_version":1}`)}
	}
	cases := map[string]func(r *esdb.RecordedEvent){
		"another namespace":    func(r *esdb.RecordedEvent) { r.StreamID = "other-loadbalancer-1" },
		"metadata not JSON":    func(r *esdb.RecordedEvent) { r.UserMetadata = []byte(`{"time":`) },
		"metadata wrong types": func(r *esdb.RecordedEvent) { r.UserMetadata = []byte(`{"time":42}`) },
		"explicit transaction": func(r *esdb.RecordedEvent) { r.Position = esdb.Position{Commit: 20, Prepare: 10} },
		"revision too large":   func(r *esdb.RecordedEvent) { r.EventNumber = 1 << 63 },
	}
	for name, spoil := range cases {
		r := base()
		if _, err := decode(names, r); err != nil {
			t.Fatalf("%s: the unspoilt event does not decode: %v", name, err)
		}
		spoil(r)
		if got, err := decode(names, r); err == nil {
			t.Errorf("%s: decoded %+v, want an error", name, got)
		}
	}
}
