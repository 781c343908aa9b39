package v2

import (
	"context"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
)

// A load balancer POST with listeners and pools ("fully populated"), as
// Octavia's LoadBalancersController._graph_create reads it: a listener's
// default_pool is either a whole pool (moved to the pools, after those of
// the request) or only a name referring to one of them; pools must then be
// named, with names unique; each object is validated as its own POST
// would be. Checks against the graph (default pool protocol, ports,
// duplicate members) are the aggregate's, which decides the whole create.

// poolRefAttrs are the attributes a default_pool may have and still be a
// mere reference by name: Octavia counts the keys of the pool's dict, where
// admin_state_up and tls_enabled are always present with their defaults.
var poolRefAttrs = []string{"name", "admin_state_up", "tls_enabled"}

// checkGraphL7 refuses L7 policies anywhere in the listeners of a load
// balancer POST, before anything is allocated.
func checkGraphL7(lb *record) *fault.Error {
	for _, l := range lb.records("listeners") {
		if nonEmptyList(l.raw("l7policies")) {
			return errL7NotServed()
		}
	}
	return nil
}

// loadBalancerGraph validates the listeners and pools of a load balancer
// POST for lb (whose VIP is allocated) and builds them, listeners pointing
// at their default pools by id.
func (a *API) loadBalancerGraph(ctx context.Context, rec *record, lb events.LoadBalancer) ([]loadbalancer.PoolGraph, []events.Listener, *fault.Error) {
	listenerRecs := rec.records("listeners")
	poolRecs := rec.records("pools")
	defaultPools := make([]*string, len(listenerRecs)) // the default pool's name of each listener
	var required []string
	for i, l := range listenerRecs {
		dp := l.sub("default_pool")
		if dp == nil {
			continue
		}
		name := dp.str("name")
		if !truthy(name) {
			return nil, nil, fault.Validation("Pools must be named when creating a fully populated loadbalancer.")
		}
		defaultPools[i] = name
		if isPoolRef(dp) {
			required = appendUnique(required, *name)
		} else {
			poolRecs = append(poolRecs, dp)
		}
	}
	names := map[string]bool{}
	unnamed := false
	for _, p := range poolRecs {
		name := p.str("name")
		if name == nil {
			// Octavia compares the names as given, None included.
			if unnamed {
				return nil, nil, errPoolNamesNotUnique()
			}
			unnamed = true
			continue
		}
		if names[*name] {
			return nil, nil, errPoolNamesNotUnique()
		}
		names[*name] = true
	}
	for _, name := range required {
		if !names[name] {
			return nil, nil, fault.Validation("Pool '%s' was referenced but no full definition was found.", name)
		}
	}

	pools := make([]loadbalancer.PoolGraph, 0, len(poolRecs))
	poolIDs := map[string]string{}
	for _, p := range poolRecs {
		g, ferr := a.newPoolGraph(ctx, p, lb)
		if ferr != nil {
			return nil, nil, ferr
		}
		pools = append(pools, *g)
		if name := p.str("name"); name != nil {
			poolIDs[*name] = g.Spec.ID
		}
	}

	listeners := make([]events.Listener, 0, len(listenerRecs))
	for i, l := range listenerRecs {
		spec, ferr := a.newListener(l, lb)
		if ferr != nil {
			return nil, nil, ferr
		}
		if name := defaultPools[i]; name != nil {
			id := poolIDs[*name]
			spec.DefaultPoolID = &id
		}
		if ferr := validateNewListener(l, spec, lb.VipAddress); ferr != nil {
			return nil, nil, ferr
		}
		if ferr := a.providers.listenerTLS(ctx, spec); ferr != nil {
			return nil, nil, ferr
		}
		listeners = append(listeners, spec)
	}
	return pools, listeners, nil
}

// isPoolRef: a default_pool that only names a pool of the request.
func isPoolRef(p *record) bool {
	for _, k := range p.order {
		if !contains(poolRefAttrs, k) {
			return false
		}
	}
	return true
}

func errPoolNamesNotUnique() *fault.Error {
	return fault.Validation("Pool names must be unique when creating a fully populated loadbalancer.")
}
