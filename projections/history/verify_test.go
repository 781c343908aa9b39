package history_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/octavia-es/octavia-es/projections/history"
)

func TestVerify(t *testing.T) {
	f := newFixture(t, 5, 80)
	ctx := context.Background()
	rep, err := history.Verify(ctx, f.store, f.reg)
	if err != nil || !rep.OK() || rep.Events != int64(len(f.all)) || rep.Head != f.all[len(f.all)-1].Position || rep.Streams < 2 {
		t.Fatalf("good store: %v %+v", err, rep)
	}

	db, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Corrupt three rows: a payload that is not JSON, a row removed (a gap
	// in positions and in its stream's versions), an unknown event type.
	bad, gone, unknown := f.all[4], f.all[9], f.all[14]
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE events SET data = '{"loadbalancer": ' WHERE position = ?`, []any{bad.Position}},
		{`DELETE FROM events WHERE position = ?`, []any{gone.Position}},
		{`UPDATE events SET type = 'loadbalancer.made_up' WHERE position = ?`, []any{unknown.Position}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = history.Verify(ctx, f.store, f.reg)
	if err != nil || rep.OK() {
		t.Fatalf("corrupted store: %v %+v", err, rep)
	}
	var lines []string
	for _, p := range rep.Problems {
		lines = append(lines, p.String())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []struct {
		pos  int64
		text string
	}{
		{bad.Position, "payload does not decode"},
		{gone.Position + 1, "is missing"},
		{unknown.Position, `unknown event type "loadbalancer.made_up"`},
	} {
		found := false
		for _, p := range rep.Problems {
			found = found || p.Position == want.pos && strings.Contains(p.Message, want.text)
		}
		if !found {
			t.Errorf("no problem %q at position %d in:\n%s", want.text, want.pos, text)
		}
	}
	// The removed row's stream skips a version, unless it was the last of
	// its stream.
	if !strings.Contains(text, "stream versions") && !lastOfStream(f, gone.Position) {
		t.Errorf("no stream version gap reported:\n%s", text)
	}
	if rep.Events != int64(len(f.all)-1) {
		t.Errorf("events %d, want %d", rep.Events, len(f.all)-1)
	}
}

func lastOfStream(f *fixture, pos int64) bool {
	var stream string
	for _, e := range f.all {
		if e.Position == pos {
			stream = e.Stream
		} else if e.Position > pos && e.Stream == stream && stream != "" {
			return false
		}
	}
	return true
}
