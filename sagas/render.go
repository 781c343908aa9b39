package sagas

import (
	"maps"
	"slices"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

// render is the configuration the amphorae must run for state s: every
// object not being deleted, sorted by id. A listener whose default pool is
// being deleted is rendered without it; members and health monitors of a
// pool being deleted go with it.
func render(s loadbalancer.State) amphora.Config {
	cfg := amphora.Config{Version: s.Version, LoadBalancer: s.LoadBalancer.Spec}
	pools := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(s.Pools)) {
		if n := s.Pools[id]; n != nil && live(n.ProvisioningStatus) {
			pools[id] = true
			cfg.Pools = append(cfg.Pools, n.Spec)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.Listeners)) {
		n := s.Listeners[id]
		if n == nil || !live(n.ProvisioningStatus) {
			continue
		}
		l := n.Spec
		if l.DefaultPoolID != nil && !pools[*l.DefaultPoolID] {
			l.DefaultPoolID = nil
		}
		cfg.Listeners = append(cfg.Listeners, l)
	}
	for _, id := range slices.Sorted(maps.Keys(s.Members)) {
		if n := s.Members[id]; n != nil && live(n.ProvisioningStatus) && pools[n.Spec.PoolID] {
			cfg.Members = append(cfg.Members, n.Spec)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.HealthMonitors)) {
		if n := s.HealthMonitors[id]; n != nil && live(n.ProvisioningStatus) && pools[n.Spec.PoolID] {
			cfg.HealthMonitors = append(cfg.HealthMonitors, n.Spec)
		}
	}
	return cfg
}

func live(status string) bool {
	return status != loadbalancer.PendingDelete && status != loadbalancer.Deleted
}
