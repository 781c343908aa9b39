package v2

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

func (a *API) poolRoutes(r chi.Router) {
	r.Get("/", a.listPools)
	r.Post("/", a.createPool)
	r.Get("/{id}", a.getPool)
	r.Put("/{id}", a.updatePool)
	r.Delete("/{id}", a.deletePool)
	r.Route("/{pool_id}/members", a.memberRoutes)
}

func (a *API) listPools(w http.ResponseWriter, r *http.Request) {
	a.list(w, r, "pools", a.read.ListPoolsRaw)
}

// readPool is GET of one pool, visible to the caller.
func (a *API) readPool(ctx context.Context, id string) (projections.PoolView, *fault.Error) {
	return readVisible(a, ctx, resPool, id, a.read.GetPool, func(v projections.PoolView) string { return v.ProjectID })
}

func (a *API) getPool(w http.ResponseWriter, r *http.Request) {
	getOne(a, w, r, "pool", a.readPool)
}

// poolGraph finds the graph of pool id and loads it for a write.
func (a *API) poolGraph(ctx context.Context, id string) (loadbalancer.State, string, *loadbalancer.Node[events.Pool], *fault.Error) {
	v, ferr := a.readPool(ctx, id)
	if ferr != nil {
		return loadbalancer.State{}, "", nil, ferr
	}
	lbID := firstRef(v.LoadBalancers)
	s, ferr := a.loadForWrite(ctx, lbID)
	if ferr != nil {
		return s, lbID, nil, ferr
	}
	n, ok := s.Pools[id]
	if !ok || n == nil {
		return s, lbID, nil, fault.NotFound(resPool, id)
	}
	return s, lbID, n, nil
}

func (a *API) createPool(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	root, ferr := body{arg: "pool_", root: rootType("pool", poolPOST)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	cmd, ferr := a.poolCommand(ctx, root)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	res, ferr := a.execute(ctx, cmd.Spec.LoadBalancerID, cmd)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderPool(res.State, cmd.Spec.ID)
	a.writeOne(w, r, http.StatusCreated, "pool", view, nil)
}

// poolCommand validates a pool POST as PoolsController.post does, in its
// order; its healthmonitor and members are created in the same command.
func (a *API) poolCommand(ctx context.Context, root *record) (loadbalancer.CreatePool, *fault.Error) {
	var cmd loadbalancer.CreatePool
	p, ferr := resource(root, "pool")
	if ferr == nil {
		ferr = mandatoryNotNull(p, "protocol", "lb_algorithm")
	}
	if ferr != nil {
		return cmd, ferr
	}
	lbID, listenerID := p.strOr("loadbalancer_id", ""), p.strOr("listener_id", "")
	switch {
	case lbID != "":
	case listenerID != "":
		v, ferr := a.readListener(ctx, listenerID)
		if ferr != nil {
			return cmd, ferr
		}
		lbID = firstRef(v.LoadBalancers)
	default:
		return cmd, fault.Validation("Must provide at least one of: loadbalancer_id, listener_id")
	}
	s, ferr := a.loadForWrite(ctx, lbID)
	if ferr != nil {
		return cmd, ferr
	}
	lb := s.LoadBalancer.Spec
	protocol := p.strOr("protocol", "")
	var listener *loadbalancer.Node[events.Listener]
	if listenerID != "" {
		listener = s.Listeners[listenerID]
		if listener == nil {
			return cmd, fault.NotFound(resListener, listenerID)
		}
		if listener.Spec.Protocol == "PROMETHEUS" {
			return cmd, listenerNoChildren("PROMETHEUS")
		}
		if ferr := checkPoolProtocol(listener.Spec.Protocol, protocol); ferr != nil {
			return cmd, ferr
		}
	}
	if ferr := a.checkNewPool(p, lb); ferr != nil {
		return cmd, ferr
	}
	if listener != nil && listener.Spec.DefaultPoolID != nil {
		return cmd, fault.New(http.StatusConflict, "This listener already has a default pool")
	}
	if cmd.Spec, ferr = a.newPool(ctx, p, lb); ferr != nil {
		return cmd, ferr
	}
	cmd.Spec.ListenerID = listenerID
	cmd.HealthMonitor, cmd.Members, ferr = a.newPoolChildren(ctx, p, cmd.Spec)
	return cmd, ferr
}

// newPoolGraph validates a pool object of a load balancer POST or of a
// listener's default_pool (Octavia's PoolsController._graph_create) and
// builds it with its health monitor and members.
func (a *API) newPoolGraph(ctx context.Context, p *record, lb events.LoadBalancer) (*loadbalancer.PoolGraph, *fault.Error) {
	// The nested type does not make them mandatory (a load balancer POST
	// may only name a pool); LoadBalancersController checks them so.
	for _, attr := range []string{"protocol", "lb_algorithm"} {
		if p.strOr(attr, "") == "" {
			return nil, fault.Validation("Pool definition for '%s' missing required attribute: %s", p.strOr("name", "None"), attr)
		}
	}
	if ferr := a.checkNewPool(p, lb); ferr != nil {
		return nil, ferr
	}
	spec, ferr := a.newPool(ctx, p, lb)
	if ferr != nil {
		return nil, ferr
	}
	hm, members, ferr := a.newPoolChildren(ctx, p, spec)
	if ferr != nil {
		return nil, ferr
	}
	return &loadbalancer.PoolGraph{Spec: spec, HealthMonitor: hm, Members: members}, nil
}

// checkNewPool is the session persistence rules of a pool POST and the
// provider's protocol check.
func (a *API) checkNewPool(p *record, lb events.LoadBalancer) *fault.Error {
	protocol := p.strOr("protocol", "")
	sp := p.sub("session_persistence")
	if ferr := spForProtocol(sp, protocol, true); ferr != nil {
		return ferr
	}
	if sp != nil {
		if ferr := mandatoryNotNull(sp, "type"); ferr != nil {
			return ferr
		}
		if ferr := checkSessionPersistence(sp); ferr != nil {
			return ferr
		}
	}
	return a.providers.supportsPoolProtocol(lb.Provider, protocol)
}

// newPool builds the complete spec of a pool object for load balancer lb
// (db_prepare.create_pool's defaults) and checks it as
// _validate_create_pool does.
func (a *API) newPool(ctx context.Context, p *record, lb events.LoadBalancer) (events.Pool, *fault.Error) {
	spec := events.Pool{
		ID:                 a.newID(),
		ProjectID:          lb.ProjectID,
		LoadBalancerID:     lb.ID,
		Name:               p.str("name"),
		Description:        p.str("description"),
		AdminStateUp:       p.boolOr("admin_state_up", true),
		Protocol:           p.strOr("protocol", ""),
		LBAlgorithm:        p.strOr("lb_algorithm", ""),
		SessionPersistence: sessionPersistence(p.sub("session_persistence")),
		Tags:               p.strings("tags"),
		TLSContainerRef:    p.str("tls_container_ref"),
		CATLSContainerRef:  p.str("ca_tls_container_ref"),
		CRLContainerRef:    p.str("crl_container_ref"),
		TLSEnabled:         p.boolOr("tls_enabled", false),
		TLSCiphers:         p.str("tls_ciphers"),
		TLSVersions:        p.strings("tls_versions"),
		ALPNProtocols:      p.strings("alpn_protocols"),
	}
	if truthy(spec.CRLContainerRef) && !truthy(spec.CATLSContainerRef) {
		return spec, fault.Validation("A CA certificate reference is required to specify a revocation list.")
	}
	if ferr := a.providers.poolTLS(ctx, deref(spec.TLSContainerRef), deref(spec.CATLSContainerRef), deref(spec.CRLContainerRef)); ferr != nil {
		return spec, ferr
	}
	if spec.TLSEnabled {
		if spec.TLSCiphers == nil {
			spec.TLSCiphers = ptr(defaultCiphers)
		}
		if !p.has("tls_versions") || p.null("tls_versions") {
			spec.TLSVersions = append([]string{}, defaultTLSVersions...)
		}
		if !p.has("alpn_protocols") || p.null("alpn_protocols") {
			spec.ALPNProtocols = append([]string{}, defaultALPN...)
		}
		if ferr := checkTLSVersions(spec.TLSVersions, true); ferr != nil {
			return spec, ferr
		}
		if ferr := checkALPN(spec.ALPNProtocols, true); ferr != nil {
			return spec, ferr
		}
	}
	return spec, nil
}

// newPoolChildren validates and builds the healthmonitor and members of a
// pool object, as their own POSTs would for pool (monitor first, as
// Octavia creates them).
func (a *API) newPoolChildren(ctx context.Context, p *record, pool events.Pool) (*events.HealthMonitor, []events.Member, *fault.Error) {
	var hm *events.HealthMonitor
	if rec := p.sub("healthmonitor"); rec != nil {
		spec, ferr := a.newHealthMonitor(rec, pool)
		if ferr != nil {
			return nil, nil, ferr
		}
		hm = &spec
	}
	recs := p.records("members")
	members := make([]events.Member, 0, len(recs))
	validSubnets := map[string]bool{}
	for _, m := range recs {
		if ferr := mandatoryNotNull(m, "address", "protocol_port"); ferr != nil {
			return nil, nil, ferr
		}
		if ferr := a.checkNewMember(ctx, m, validSubnets); ferr != nil {
			return nil, nil, ferr
		}
		members = append(members, memberSpec(m, a.newID(), pool.ProjectID, pool.ID, nil))
	}
	return hm, members, nil
}

func (a *API) updatePool(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	root, ferr := body{arg: "pool_", root: rootType("pool", poolPUT)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	p, ferr := resource(root, "pool")
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	_, lbID, cur, ferr := a.poolGraph(ctx, id)
	var overrides map[string]any
	if ferr == nil {
		overrides, ferr = validatePoolUpdate(p, cur.Spec)
	}
	if ferr == nil {
		ferr = a.providers.poolTLS(ctx, deref(p.str("tls_container_ref")), updatedRef(p, "ca_tls_container_ref", cur.Spec.CATLSContainerRef),
			updatedRef(p, "crl_container_ref", cur.Spec.CRLContainerRef))
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	pt, err := patch(p, overrides)
	if err != nil {
		fault.Write(w, a.internal(ctx, "build patch", err))
		return
	}
	res, ferr := a.execute(ctx, lbID, loadbalancer.UpdatePool{PoolID: id, Patch: pt})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderPool(res.State, id)
	a.writeOne(w, r, http.StatusOK, "pool", view, nil)
}

// updatedRef is a reference as _validate_pool_PUT checks it: the PUT's if
// it sets one, the pool's if the PUT does not name it, none if the PUT
// clears it.
func updatedRef(p *record, attr string, cur *string) string {
	if !p.has(attr) {
		return deref(cur)
	}
	return deref(p.str(attr))
}

// validatePoolUpdate is PoolsController.put's checks (_validate_pool_PUT)
// and returns the patch overrides: defaults for nulls, and the whole
// session_persistence object Octavia writes.
func validatePoolUpdate(p *record, cur events.Pool) (map[string]any, *fault.Error) {
	overrides := nullDefaults(p, map[string]any{
		"tls_versions": defaultTLSVersions,
		"tls_ciphers":  defaultCiphers,
		"tls_enabled":  false,
	})
	sp := p.sub("session_persistence")
	if sp != nil {
		if !truthy(sp.str("type")) && cur.SessionPersistence != nil && cur.SessionPersistence.Type != "" {
			sp.set("type", cur.SessionPersistence.Type)
		}
		if sp.null("type") {
			delete(sp.vals, "type")
		}
	}
	if ferr := spForProtocol(sp, cur.Protocol, false); ferr != nil {
		return nil, ferr
	}
	if sp != nil {
		if ferr := checkSessionPersistence(sp); ferr != nil {
			return nil, ferr
		}
		overrides["session_persistence"] = map[string]any{
			"type":                    sp.strOr("type", ""),
			"cookie_name":             sp.str("cookie_name"),
			"persistence_timeout":     sp.integer("persistence_timeout"),
			"persistence_granularity": sp.str("persistence_granularity"),
		}
	}
	// CA and CRL references, as _validate_pool_PUT resolves them.
	var crl *string
	switch {
	case truthy(p.str("crl_container_ref")):
		crl = p.str("crl_container_ref")
	case truthy(cur.CRLContainerRef) && !p.has("crl_container_ref"):
		crl = cur.CRLContainerRef
	}
	curCA := truthy(cur.CATLSContainerRef)
	if p.has("ca_tls_container_ref") {
		ca := truthy(p.str("ca_tls_container_ref"))
		if !ca && curCA && crl != nil {
			return nil, fault.Validation("A CA reference cannot be removed when a certificate revocation list is present.")
		}
		if !ca && !curCA && crl != nil {
			return nil, fault.Validation("A CA reference is required to specify a certificate revocation list.")
		}
	} else if !curCA && crl != nil {
		return nil, fault.Validation("A CA reference is required to specify a certificate revocation list.")
	}
	if p.has("tls_versions") {
		versions := p.strings("tls_versions")
		if p.null("tls_versions") {
			versions = defaultTLSVersions
		}
		if ferr := checkTLSVersions(versions, true); ferr != nil {
			return nil, ferr
		}
	}
	if p.has("alpn_protocols") && !p.null("alpn_protocols") {
		if ferr := checkALPN(p.strings("alpn_protocols"), true); ferr != nil {
			return nil, ferr
		}
	}
	return overrides, nil
}

func (a *API) deletePool(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r)
	var lbID string
	if ferr == nil {
		_, lbID, _, ferr = a.poolGraph(ctx, id)
	}
	if ferr == nil {
		_, ferr = a.execute(ctx, lbID, loadbalancer.DeletePool{PoolID: id})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusNoContent)
}
