package sagas

import (
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

func TestRenderLeavesOutPendingDeletes(t *testing.T) {
	s := loadbalancer.NewStateFor("lb-1")
	s.Version = 12
	s.LoadBalancer.Spec = events.LoadBalancer{ID: "lb-1"}
	pool := func(id string) *string { return &id }
	s.Listeners["l2"] = &loadbalancer.Node[events.Listener]{Spec: events.Listener{ID: "l2", DefaultPoolID: pool("p-gone")}, ProvisioningStatus: loadbalancer.PendingUpdate}
	s.Listeners["l1"] = &loadbalancer.Node[events.Listener]{Spec: events.Listener{ID: "l1", DefaultPoolID: pool("p1"), AdminStateUp: false}, ProvisioningStatus: loadbalancer.Active}
	s.Listeners["l3"] = &loadbalancer.Node[events.Listener]{Spec: events.Listener{ID: "l3"}, ProvisioningStatus: loadbalancer.PendingDelete}
	s.Pools["p1"] = &loadbalancer.Node[events.Pool]{Spec: events.Pool{ID: "p1"}, ProvisioningStatus: loadbalancer.PendingCreate}
	s.Pools["p-gone"] = &loadbalancer.Node[events.Pool]{Spec: events.Pool{ID: "p-gone"}, ProvisioningStatus: loadbalancer.PendingDelete}
	s.Members["m2"] = &loadbalancer.Node[events.Member]{Spec: events.Member{ID: "m2", PoolID: "p1"}, ProvisioningStatus: loadbalancer.ErrorStatus}
	s.Members["m1"] = &loadbalancer.Node[events.Member]{Spec: events.Member{ID: "m1", PoolID: "p1"}, ProvisioningStatus: loadbalancer.PendingDelete}
	s.Members["m3"] = &loadbalancer.Node[events.Member]{Spec: events.Member{ID: "m3", PoolID: "p-gone"}, ProvisioningStatus: loadbalancer.Active}
	s.HealthMonitors["h1"] = &loadbalancer.Node[events.HealthMonitor]{Spec: events.HealthMonitor{ID: "h1", PoolID: "p-gone"}, ProvisioningStatus: loadbalancer.Active}
	s.HealthMonitors["h2"] = &loadbalancer.Node[events.HealthMonitor]{Spec: events.HealthMonitor{ID: "h2", PoolID: "p1"}, ProvisioningStatus: loadbalancer.PendingCreate}

	cfg := render(s)
	if cfg.Version != 12 || cfg.LoadBalancer.ID != "lb-1" {
		t.Fatalf("version %d, lb %q", cfg.Version, cfg.LoadBalancer.ID)
	}
	ids := func(n int, id func(int) string) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = id(i)
		}
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s = %v, want %v", what, got, want)
			}
		}
	}
	check("listeners", ids(len(cfg.Listeners), func(i int) string { return cfg.Listeners[i].ID }), []string{"l1", "l2"})
	check("pools", ids(len(cfg.Pools), func(i int) string { return cfg.Pools[i].ID }), []string{"p1"})
	check("members", ids(len(cfg.Members), func(i int) string { return cfg.Members[i].ID }), []string{"m2"})
	check("health monitors", ids(len(cfg.HealthMonitors), func(i int) string { return cfg.HealthMonitors[i].ID }), []string{"h2"})
	if cfg.Listeners[1].DefaultPoolID != nil {
		t.Fatalf("l2 still points at the pool being deleted")
	}
	if *s.Listeners["l2"].Spec.DefaultPoolID != "p-gone" {
		t.Fatal("render modified the state")
	}
	if cfg.Listeners[0].DefaultPoolID == nil || cfg.Listeners[0].AdminStateUp {
		t.Fatalf("l1 = %+v: a disabled listener is rendered disabled, with its pool", cfg.Listeners[0])
	}
}
