package v2_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/events"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections/history"
)

// sseEvent is one event read from a stream.
type sseEvent struct {
	id   int64
	typ  string
	data string
}

// sseClient reads a stream in the background.
type sseClient struct {
	t          *testing.T
	resp       *http.Response
	events     chan sseEvent
	mu         sync.Mutex
	heartbeats int
}

func openStream(t *testing.T, url string, header ...string) *sseClient {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{t: t, resp: resp, events: make(chan sseEvent, 4096)}
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) read() {
	defer close(c.events)
	rd := bufio.NewReader(c.resp.Body)
	var ev sseEvent
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.typ != "" {
				c.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ": heartbeat"):
			c.mu.Lock()
			c.heartbeats++
			c.mu.Unlock()
		case strings.HasPrefix(line, "id: "):
			ev.id, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

func (c *sseClient) close() { _ = c.resp.Body.Close() }

// take reads n events.
func (c *sseClient) take(n int) []sseEvent {
	c.t.Helper()
	var out []sseEvent
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("stream ended after %d of %d events", len(out), n)
			}
			out = append(out, ev)
		case <-deadline:
			c.t.Fatalf("only %d of %d events", len(out), n)
		}
	}
	return out
}

// until reads events up to and including position last.
func (c *sseClient) until(last int64) []sseEvent {
	c.t.Helper()
	var out []sseEvent
	deadline := time.After(10 * time.Second)
	for len(out) == 0 || out[len(out)-1].id < last {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("stream ended at %v before position %d", ids(out), last)
			}
			out = append(out, ev)
		case <-deadline:
			c.t.Fatalf("position %d never came: %v", last, ids(out))
		}
	}
	return out
}

func ids(evs []sseEvent) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.id)
	}
	return out
}

func (e *histEnv) serve() *httptest.Server {
	srv := httptest.NewServer(e.handler)
	e.t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func (e *histEnv) head() int64 {
	h, err := e.store.Head(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// TestStreamResume: two subscribers follow a history being written; one
// disconnects mid-stream and resumes with Last-Event-ID. Both receive every
// event once, in position order, each frame consistent with its item.
func TestStreamResume(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	srv := e.serve()
	e.workload(1, 2, 30) // some history before the subscribers
	url := srv.URL + "/v2/lbaas/events/stream?from=1"
	a, b := openStream(t, url, admin()...), openStream(t, url, admin()...)

	done := make(chan struct{})
	go func() {
		defer close(done)
		e.workload(2, 4, 150)
	}()
	gotA := a.take(40)
	a.close()
	<-done
	head := e.head()
	a2 := openStream(t, srv.URL+"/v2/lbaas/events/stream", append(admin(), "Last-Event-ID", strconv.FormatInt(gotA[len(gotA)-1].id, 10))...)
	gotA = append(gotA, a2.until(head)...)
	gotB := b.until(head)

	want := []int64{}
	for p := int64(1); p <= head; p++ {
		want = append(want, p)
	}
	if !reflect.DeepEqual(ids(gotA), want) || !reflect.DeepEqual(ids(gotB), want) {
		t.Fatalf("positions\nA %v\nB %v\nwant 1..%d", ids(gotA), ids(gotB), head)
	}
	all := e.all()
	for i, ev := range gotB {
		var it history.Item
		if err := json.Unmarshal([]byte(ev.data), &it); err != nil {
			t.Fatal(err)
		}
		if it.Position != ev.id || it.Type != ev.typ || it.Type != all[i].Type || it.ID != all[i].ID || ev.data != gotA[i].data {
			t.Fatalf("event %d: %+v for frame %+v", i, it, ev)
		}
	}
	if head < 100 {
		t.Fatalf("only %d events: too short a history", head)
	}
}

// TestStreamProjects: a tenant sees its own projects' events only (the
// sagas' too), whatever it asks; filters narrow further.
func TestStreamProjects(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	srv := e.serve()
	base := srv.URL + "/v2/lbaas/events/stream?from=1"
	p1, p2 := openStream(t, base, tenant("p1")...), openStream(t, base, tenant("p2")...)
	adminP2 := openStream(t, base+"&project_id=p2&type=loadbalancer.*", admin()...)
	writes := e.workload(3, 4, 100)
	projectOf := map[string]string{}
	for _, w := range writes {
		projectOf[w.LoadBalancerID] = w.State.LoadBalancer.Spec.ProjectID
	}
	all := e.all()
	pick := func(keep func(events.Envelope) bool) []int64 {
		return positionsOf(all, keep)
	}
	in := func(p string) func(events.Envelope) bool {
		return func(env events.Envelope) bool { return projectOf[history.LoadBalancerOf(env)] == p }
	}
	for _, tc := range []struct {
		name string
		c    *sseClient
		want []int64
	}{
		{"p1", p1, pick(in("p1"))},
		{"p2", p2, pick(in("p2"))},
		{"admin p2 loadbalancer.*", adminP2, pick(func(env events.Envelope) bool {
			return in("p2")(env) && strings.HasPrefix(env.Type, "loadbalancer.")
		})},
	} {
		if len(tc.want) == 0 {
			t.Fatalf("%s: nothing expected: a useless case", tc.name)
		}
		got := tc.c.take(len(tc.want))
		if !reflect.DeepEqual(ids(got), tc.want) {
			t.Fatalf("%s:\n got %v\nwant %v", tc.name, ids(got), tc.want)
		}
		sagas := 0
		for _, ev := range got {
			var it history.Item
			if err := json.Unmarshal([]byte(ev.data), &it); err != nil {
				t.Fatal(err)
			}
			if it.Actor.ProjectID == nil {
				sagas++
			}
		}
		if sagas == 0 {
			t.Errorf("%s: no saga event delivered", tc.name)
		}
	}

	// One load balancer of its own, resumed from a position.
	var mine string
	for id, p := range projectOf {
		if p == "p1" {
			mine = id
		}
	}
	want := pick(func(env events.Envelope) bool { return history.LoadBalancerOf(env) == mine })
	c := openStream(t, srv.URL+"/v2/lbaas/events/stream?loadbalancer_id="+mine+"&from="+strconv.FormatInt(want[1], 10), tenant("p1")...)
	if got := c.take(len(want) - 1); !reflect.DeepEqual(ids(got), want[1:]) {
		t.Fatalf("load balancer %s from %d:\n got %v\nwant %v", mine, want[1], ids(got), want[1:])
	}

	var theirs string
	for id, p := range projectOf {
		if p == "p2" {
			theirs = id
		}
	}
	for _, tc := range []struct {
		query  string
		who    []string
		status int
		fault  string
	}{
		{"?project_id=p2", tenant("p1"), 403, "Policy does not allow this request to be performed."},
		{"", tenant(""), 403, "Policy does not allow this request to be performed."},
		{"?loadbalancer_id=" + theirs, tenant("p1"), 403, "Policy does not allow this request to be performed."},
		{"?loadbalancer_id=" + unknownID, admin(), 404, "Load Balancer " + unknownID + " not found."},
		{"?type=nope", admin(), 400, `Invalid input for field/attribute type. Value: 'nope'. Unknown event type "nope".`},
		{"?from=x", admin(), 400, "Invalid input for field/attribute from. Value: 'x'. Expected a position (an integer)."},
		{"?limit=3", admin(), 400, `Unknown argument: "limit"`},
	} {
		m := e.getJSON("/v2/lbaas/events/stream"+tc.query, tc.who, tc.status)
		if m["faultstring"] != tc.fault {
			t.Errorf("%s: %v, want %q", tc.query, m, tc.fault)
		}
	}
	m := e.getJSON("/v2/lbaas/events/stream", append(admin(), "Last-Event-ID", "abc"), 400)
	if m["faultstring"] != "Invalid input for field/attribute Last-Event-ID. Value: 'abc'. Expected a position (an integer)." {
		t.Errorf("Last-Event-ID abc: %v", m)
	}
}

func TestStreamHeartbeat(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{Heartbeat: 10 * time.Millisecond})
	c := openStream(t, e.serve().URL+"/v2/lbaas/events/stream", admin()...)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := c.heartbeats
		c.mu.Unlock()
		if n >= 3 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("fewer than 3 heartbeats in 5 s")
}

// stalledWriter is a client connection that stops taking bytes after the
// first write until released.
type stalledWriter struct {
	header  http.Header
	mu      sync.Mutex
	buf     strings.Builder
	writes  int
	release chan struct{}
}

func (w *stalledWriter) Header() http.Header { return w.header }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Flush()              {}
func (w *stalledWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	n := w.writes
	w.mu.Unlock()
	if n > 1 {
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// TestStreamSlowConsumer: a client that stops reading is cut once its
// buffer stayed full for the stall timeout, with a final error event
// naming the last position it got; resuming from there loses nothing.
func TestStreamSlowConsumer(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{Buffer: 2, StallTimeout: 50 * time.Millisecond})
	e.workload(4, 2, 40)
	head := e.head()
	w := &stalledWriter{header: http.Header{}, release: make(chan struct{})}
	req := httptest.NewRequest(http.MethodGet, "http://octavia.test/v2/lbaas/events/stream?from=1", nil)
	req.Header.Set("X-Test-Admin", "1")
	served := make(chan struct{})
	go func() {
		defer close(served)
		e.handler.ServeHTTP(w, req)
	}()
	time.Sleep(300 * time.Millisecond) // well past the stall timeout
	close(w.release)
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled subscriber was never cut")
	}
	frames := strings.Split(strings.TrimSuffix(w.buf.String(), "\n\n"), "\n\n")
	lastFrame := frames[len(frames)-1]
	errData, ok := strings.CutPrefix(lastFrame, "event: error\ndata: ")
	if !ok {
		t.Fatalf("last frame %q", lastFrame)
	}
	var se struct {
		Error       string `json:"error"`
		Message     string `json:"message"`
		LastEventID int64  `json:"last_event_id"`
	}
	if err := json.Unmarshal([]byte(errData), &se); err != nil {
		t.Fatal(err)
	}
	delivered := []int64{}
	for _, f := range frames {
		if id, ok := strings.CutPrefix(f, "id: "); ok {
			n, _ := strconv.ParseInt(id[:strings.IndexByte(id, '\n')], 10, 64)
			delivered = append(delivered, n)
		}
	}
	if se.Error != "slow_consumer" || len(delivered) == 0 || se.LastEventID != delivered[len(delivered)-1] ||
		!strings.Contains(se.Message, "Last-Event-ID: "+strconv.FormatInt(se.LastEventID, 10)) {
		t.Fatalf("error %+v after %v", se, delivered)
	}
	if int64(len(delivered)) >= head || len(delivered) > 2+2 {
		t.Fatalf("%d of %d events delivered to a stalled client with a buffer of 2", len(delivered), head)
	}
	for i, p := range delivered {
		if p != int64(i+1) {
			t.Fatalf("delivered %v", delivered)
		}
	}
	// Resuming from the last event received loses nothing.
	c := openStream(t, e.serve().URL+"/v2/lbaas/events/stream", append(admin(), "Last-Event-ID", strconv.FormatInt(se.LastEventID, 10))...)
	if got := c.until(head); got[0].id != se.LastEventID+1 || int64(len(got)) != head-se.LastEventID {
		t.Fatalf("resumed %v", ids(got))
	}
}

// TestStreamShutdown: a stopping server ends its streams at once, telling
// the client where to resume.
func TestStreamShutdown(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	e.workload(4, 1, 10)
	head := e.head()
	req := httptest.NewRequest(http.MethodGet, "http://octavia.test/v2/lbaas/events/stream?from=1", nil)
	req.Header.Set("X-Test-Admin", "1")
	w := &stalledWriter{header: http.Header{}, release: make(chan struct{})}
	close(w.release)
	served := make(chan struct{})
	go func() {
		defer close(served)
		e.handler.ServeHTTP(w, req)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.String(), "id: "+strconv.FormatInt(head, 10)+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("events never delivered: %q", w.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(e.shutdown)
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the shutdown")
	}
	want := `event: error` + "\n" + `data: {"error":"shutdown","message":"The server is shutting down. Reconnect with Last-Event-ID: ` +
		strconv.FormatInt(head, 10) + ` to resume.","last_event_id":` + strconv.FormatInt(head, 10) + "}\n\n"
	if !strings.HasSuffix(w.String(), want) {
		t.Fatalf("stream ends with %q", w.String()[max(0, len(w.String())-300):])
	}
}

func (w *stalledWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
