package projections

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/octavia-es/octavia-es/events"
)

// Heartbeat deltas accumulate per listener and per amphora; active
// connections are the last absolute value; the load balancer sums its
// listeners.
func TestAddListenerStats(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	startProjector(t, rm, src, nil)
	src.append(t, "a", lbCreate("a", "p"))
	src.append(t, "a", lbActivate("a")[0])
	src.append(t, "a", booted("a", "amp-1"))
	src.append(t, "a", events.LoadBalancerActivated{LoadBalancerID: "a"})
	for _, l := range []string{"l1", "l2"} {
		src.append(t, "a", events.ListenerCreateRequested{Listener: events.Listener{
			ID: l, ProjectID: "p", LoadBalancerID: "a", AdminStateUp: true, Protocol: "HTTP", ProtocolPort: 80}})
	}
	waitFor(t, rm, src.append(t, "a", applied("a")))
	ctx := context.Background()

	beats := []map[string]Stats{
		{"l1": {BytesIn: 100, BytesOut: 1000, ActiveConnections: 3, TotalConnections: 5, RequestErrors: 1}},
		{"l1": {BytesIn: 10, BytesOut: 20, ActiveConnections: 1, TotalConnections: 2},
			"l2": {BytesIn: 7, BytesOut: 8, ActiveConnections: 4, TotalConnections: 4, RequestErrors: 2}},
		{}, // an empty heartbeat changes nothing
	}
	for _, b := range beats {
		if err := rm.AddListenerStats(ctx, "amp-1", b); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		get  func() (Stats, error)
		want Stats
	}{
		{"listener l1", func() (Stats, error) { return rm.ListenerStats(ctx, "l1") },
			Stats{BytesIn: 110, BytesOut: 1020, ActiveConnections: 1, TotalConnections: 7, RequestErrors: 1}},
		{"listener l2", func() (Stats, error) { return rm.ListenerStats(ctx, "l2") },
			Stats{BytesIn: 7, BytesOut: 8, ActiveConnections: 4, TotalConnections: 4, RequestErrors: 2}},
		{"load balancer", func() (Stats, error) { return rm.LoadBalancerStats(ctx, "a") },
			Stats{BytesIn: 117, BytesOut: 1028, ActiveConnections: 5, TotalConnections: 11, RequestErrors: 3}},
	}
	for _, c := range cases {
		if got, err := c.get(); err != nil || got != c.want {
			t.Errorf("%s = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}

	amp, err := rm.AmphoraStats(ctx, "amp-1")
	want := []AmphoraStatsView{
		{ActiveConnections: 1, BytesIn: 110, BytesOut: 1020, ID: "amp-1", ListenerID: "l1", LoadBalancerID: "a", RequestErrors: 1, TotalConnections: 7},
		{ActiveConnections: 4, BytesIn: 7, BytesOut: 8, ID: "amp-1", ListenerID: "l2", LoadBalancerID: "a", RequestErrors: 2, TotalConnections: 4},
	}
	if err != nil || !jsonEqual(t, amp, want) {
		t.Errorf("amphora stats = %+v, %v", amp, err)
	}
	if _, err := rm.AmphoraStats(ctx, "amp-unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stats of an unknown amphora: %v", err)
	}
	if err := rm.AddListenerStats(ctx, "", beats[0]); err == nil {
		t.Error("stats without an amphora id accepted")
	}
}

// A file written by an older schema version (here 2: plain tables, no
// generations) is emptied and rebuilt by replay: the checkpoint restarts at
// 0, the tables exist, the stats survive.
func TestSchemaUpgradeRebuilds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "read.db")
	rm, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	writeStates(t, rm, 7, lbState(1, "p", t0))
	if err := rm.PutStats(ctx, StatsListener, "l1", Stats{BytesIn: 5}); err != nil {
		t.Fatal(err)
	}
	if err := rm.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// As version 2 left it: tables where the views are now.
	for _, q := range []string{`DROP VIEW load_balancers`, `DROP VIEW amphorae`, `DROP TABLE generations`,
		`CREATE TABLE load_balancers (id TEXT PRIMARY KEY, doc TEXT)`, `INSERT INTO load_balancers VALUES ('x', '{}')`,
		`CREATE TABLE amphorae (id TEXT PRIMARY KEY)`, `PRAGMA user_version = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()

	rm, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	if pos, _ := rm.Checkpoint(ctx); pos != 0 {
		t.Errorf("checkpoint %d after a schema change, want 0", pos)
	}
	if n := countRows(t, rm, "load_balancers"); n != 0 {
		t.Errorf("%d load balancers kept from the old schema", n)
	}
	if n := countRows(t, rm, "amphorae"); n != 0 {
		t.Errorf("%d amphorae", n)
	}
	var bytesIn int64
	if err := rm.read.QueryRow(`SELECT bytes_in FROM stats WHERE id = 'l1'`).Scan(&bytesIn); err != nil || bytesIn != 5 {
		t.Errorf("stats after rebuild: %d, %v", bytesIn, err)
	}
	var v int
	if err := rm.read.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version %d, %v", v, err)
	}
}
