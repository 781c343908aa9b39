package v2_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/auth"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/http/v2/v2fake"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// histEnv is the API over the real SQLite event store, the real aggregate
// and the projected read model. Its router injects the identity named by
// test headers (X-Test-Project, X-Test-Admin: 1) instead of noauth, which
// makes every caller admin.
type histEnv struct {
	t       *testing.T
	store   *sqlite.Store
	rm      *projections.ReadModel
	cmds    *loadbalancer.Handler
	handler http.Handler
	// shutdown is the API's Deps.Shutdown.
	shutdown chan struct{}
}

func newHistEnv(t *testing.T, cfg v2.EventsConfig) *histEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	rm, err := projections.Open(ctx, filepath.Join(dir, "readmodel.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := events.NewRegistry()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = projections.NewProjector(rm, store, reg, log).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = rm.Close()
		_ = store.Close()
	})
	e := &histEnv{t: t, store: store, rm: rm, cmds: loadbalancer.NewHandler(store, reg, log), shutdown: make(chan struct{})}
	api, err := v2.New(v2.Config{ReadYourWritesTimeout: 5 * time.Second, PaginationMaxLimit: 1000, Events: cfg}, v2.Deps{
		Commands: e.cmds, ReadModel: rm, Events: store, Subnets: v2fake.Subnets{}, Logger: log, Shutdown: e.shutdown,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := auth.Identity{ProjectID: r.Header.Get("X-Test-Project"), IsAdmin: r.Header.Get("X-Test-Admin") == "1"}
			next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), id)))
		})
	})
	r.Route("/v2", api.Routes)
	e.handler = r
	return e
}

// admin and tenant name the caller of get.
func admin() []string          { return []string{"X-Test-Admin", "1"} }
func tenant(p string) []string { return []string{"X-Test-Project", p} }
func (e *histEnv) get(path string, who []string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://octavia.test"+path, nil)
	for i := 0; i+1 < len(who); i += 2 {
		req.Header.Set(who[i], who[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// getJSON expects status and decodes the body.
func (e *histEnv) getJSON(path string, who []string, status int) map[string]any {
	e.t.Helper()
	rec := e.get(path, who)
	if rec.Code != status {
		e.t.Fatalf("GET %s: status %d, want %d; body %s", path, rec.Code, status, rec.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		e.t.Fatalf("GET %s: body %q: %v", path, rec.Body.String(), err)
	}
	return m
}

// workload records a random history over projects p1 and p2.
func (e *histEnv) workload(seed uint64, lbs, steps int) []historytest.Write {
	e.t.Helper()
	writes, err := historytest.Run(context.Background(), e.cmds, rand.New(rand.NewPCG(seed, 2)), historytest.Options{
		LoadBalancers: lbs, Steps: steps, Projects: []string{"p1", "p2"},
		Actor: func(p string) events.Metadata {
			return events.Metadata{Actor: events.Actor{ProjectID: p, UserID: "user-" + p, RequestID: "req-1"}, CorrelationID: "req-1"}
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return writes
}

// all is every stored event.
func (e *histEnv) all() []events.Envelope {
	e.t.Helper()
	envs, err := e.store.ReadAll(context.Background(), 0, 1<<20)
	if err != nil {
		e.t.Fatal(err)
	}
	return envs
}

// roundTrip is v through JSON, as a client decodes it.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type historyWrite = historytest.Write

// deleteOne settles and deletes the load balancer of writes[0] (a tenant
// delete, then the saga's outcome) and returns its id.
func (e *histEnv) deleteOne(writes []historyWrite) string {
	e.t.Helper()
	ctx := context.Background()
	id := writes[0].LoadBalancerID
	s, err := e.cmds.Load(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	if s.Gone {
		return id
	}
	tenant := events.Metadata{Actor: events.Actor{ProjectID: s.LoadBalancer.Spec.ProjectID}}
	for _, step := range []struct {
		cmd loadbalancer.Command
		md  events.Metadata // saga outcomes act for nobody
	}{
		{loadbalancer.ActivateLoadBalancer{}, events.Metadata{}},
		{loadbalancer.RecordConfigurationApplied{}, events.Metadata{}},
		{loadbalancer.DeleteLoadBalancer{Cascade: true}, tenant},
		{loadbalancer.RecordLoadBalancerDeleted{}, events.Metadata{}},
	} {
		if _, err := e.cmds.Execute(ctx, id, step.cmd, step.md); err != nil {
			e.t.Fatalf("%T: %v", step.cmd, err)
		}
	}
	if s, _ := e.cmds.Load(ctx, id); !s.Gone {
		e.t.Fatalf("load balancer %s not deleted: %+v", id, s.LoadBalancer)
	}
	return id
}
