package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// TestWriterSendsAloneOnlyWhenIdle: an append that finds the writer idle is
// sent by its caller; appends that arrive while a group is in flight queue
// and go together; after such a group, appends keep going through the
// writer until it sends a group of one again.
func TestWriterSendsAloneOnlyWhenIdle(t *testing.T) {
	w := newWriter(nil, "append_group", "c", func() {})
	defer w.close()
	var (
		mu      sync.Mutex
		sent    []string
		block   atomic.Bool
		release = make(chan struct{})
	)
	w.send = func(ctx context.Context, group []*appendReq) ([]appendResult, error) {
		by := "caller"
		if ctx == w.ctx {
			by = "writer"
		}
		mu.Lock()
		sent = append(sent, fmt.Sprintf("%s:%d", by, len(group)))
		mu.Unlock()
		if block.Load() {
			<-release
		}
		out := make([]appendResult, len(group))
		for i := range out {
			out[i].appended = true
		}
		return out, nil
	}
	ctx := context.Background()
	submit := func(stream string) {
		if res := w.submit(ctx, newAppendReq(ctx, stream, -1, newBatch(1, 1))); res.err != nil {
			t.Error(res.err)
		}
	}
	sentSoFar := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), sent...)
	}
	waitFor := func(what string, cond func() bool) {
		for deadline := time.Now().Add(5 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (sent %v)", what, sentSoFar())
			}
			time.Sleep(time.Millisecond)
		}
	}

	submit("a")
	block.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() { submit("b") })
	waitFor("b in flight", func() bool { return len(sentSoFar()) == 2 })
	for _, s := range []string{"c", "d", "e"} {
		wg.Go(func() { submit(s) })
	}
	waitFor("c, d, e queued", func() bool { return w.queued.Load() == 3 })
	block.Store(false)
	close(release)
	wg.Wait()
	submit("f")
	submit("g")

	want := []string{"caller:1", "caller:1", "writer:3", "writer:1", "caller:1"}
	if got := sentSoFar(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v, want %v", got, want)
	}
}
