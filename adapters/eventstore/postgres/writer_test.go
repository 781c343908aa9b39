package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestWriterFormsGroups(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	req := func(stream string, events int, ctx context.Context) *appendReq { //nolint:revive // reads better in the table
		return newAppendReq(ctx, stream, -1, newBatch(events, events))
	}
	live := context.Background()
	cases := []struct {
		name      string
		maxAppend int
		pending   []*appendReq
		wantGroup string
		wantRest  string
		wantGone  int // answered with their ctx's error
	}{
		{"distinct streams", 8, []*appendReq{req("a", 1, live), req("b", 2, live)}, "a b", "", 0},
		{"second append on a stream waits", 8,
			[]*appendReq{req("a", 1, live), req("b", 1, live), req("a", 1, live), req("c", 1, live), req("a", 1, live)},
			"a b c", "a a", 0},
		{"append limit", 2, []*appendReq{req("a", 1, live), req("b", 1, live), req("c", 1, live)}, "a b", "c", 0},
		{"event limit", 8, []*appendReq{req("a", groupEvents-1, live), req("b", 2, live), req("c", 1, live)}, "a c", "b", 0},
		{"one oversized append still goes", 8, []*appendReq{req("a", groupEvents+5, live), req("b", 1, live)}, "a", "b", 0},
		{"callers that left are dropped", 8, []*appendReq{req("a", 1, cancelled), req("b", 1, live), req("c", 1, cancelled)}, "b", "", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &writer{maxAppend: c.maxAppend}
			group, rest := w.form(c.pending)
			if got := streamsOf(group); got != c.wantGroup {
				t.Errorf("group %q, want %q", got, c.wantGroup)
			}
			if got := streamsOf(rest); got != c.wantRest {
				t.Errorf("rest %q, want %q", got, c.wantRest)
			}
			gone := 0
			for _, r := range c.pending {
				select {
				case res := <-r.res:
					if !errors.Is(res.err, context.Canceled) {
						t.Errorf("dropped %s answered %v, want context.Canceled", r.stream, res.err)
					}
					gone++
				default:
				}
			}
			if gone != c.wantGone {
				t.Errorf("%d requests answered, want %d", gone, c.wantGone)
			}
		})
	}
}

func streamsOf(rs []*appendReq) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.stream
	}
	return strings.Join(names, " ")
}
