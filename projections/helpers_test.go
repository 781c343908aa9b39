package projections

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// openTest opens an empty read model: SQLite, or PostgreSQL for the tests
// TestOnPostgres runs again.
func openTest(t testing.TB) *ReadModel {
	t.Helper()
	if strings.HasPrefix(t.Name(), onPostgres+"/") {
		return openPostgresTest(t, newTestSchema(t))
	}
	rm, err := Open(context.Background(), filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rm.Close() })
	return rm
}

// writeStates stores the rendered graphs as the projector would, with the
// checkpoint at pos.
func writeStates(t testing.TB, rm *ReadModel, pos int64, states ...loadbalancer.State) {
	t.Helper()
	w, err := rm.beginWrite(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.rollback()
	for _, s := range states {
		rows, err := renderRows(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.writeGraph(s.LoadBalancer.Spec.ID, nil, rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.setCheckpoint(pos); err != nil {
		t.Fatal(err)
	}
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	rm.advance(pos)
}

type lbOpt func(*loadbalancer.State)

// lbState is a lone, ACTIVE load balancer; id is derived from i so ids sort
// as i does.
func lbState(i int, project string, created time.Time, opts ...lbOpt) loadbalancer.State {
	s := loadbalancer.NewState()
	s.Exists = true
	s.LoadBalancer = loadbalancer.Node[events.LoadBalancer]{
		Spec: events.LoadBalancer{
			ID: lbIDOf(i), ProjectID: project, AdminStateUp: true,
			VipAddress: ptr(fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)), Provider: "amphora",
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online,
		CreatedAt: created,
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func lbIDOf(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

func named(n string) lbOpt {
	return func(s *loadbalancer.State) { s.LoadBalancer.Spec.Name = ptr(n) }
}

func tagged(tags ...string) lbOpt {
	return func(s *loadbalancer.State) { s.LoadBalancer.Spec.Tags = tags }
}

func adminDown() lbOpt {
	return func(s *loadbalancer.State) { s.LoadBalancer.Spec.AdminStateUp = false }
}

func provisioning(st string) lbOpt {
	return func(s *loadbalancer.State) { s.LoadBalancer.ProvisioningStatus = st }
}
