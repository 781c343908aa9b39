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

func (a *API) listenerRoutes(r chi.Router) {
	r.Get("/", a.listListeners)
	r.Post("/", a.createListener)
	r.Get("/{id}", a.getListener)
	r.Put("/{id}", a.updateListener)
	r.Delete("/{id}", a.deleteListener)
	r.Get("/{id}/stats", a.listenerStats)
}

func (a *API) listListeners(w http.ResponseWriter, r *http.Request) {
	a.list(w, r, "listeners", a.read.ListListenersRaw)
}

// readListener is GET of one listener, visible to the caller.
func (a *API) readListener(ctx context.Context, id string) (projections.ListenerView, *fault.Error) {
	return readVisible(a, ctx, resListener, id, a.read.GetListener, func(v projections.ListenerView) string { return v.ProjectID })
}

func (a *API) getListener(w http.ResponseWriter, r *http.Request) {
	getOne(a, w, r, "listener", a.readListener)
}

func (a *API) listenerStats(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r)
	if ferr == nil {
		_, ferr = a.readListener(ctx, id)
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	st, err := a.read.ListenerStats(ctx, id)
	if err != nil {
		fault.Write(w, a.readError(ctx, err, fault.NotFound(resListener, id)))
		return
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"stats": st})
}

// listenerGraph finds the graph of listener id and loads it for a write.
func (a *API) listenerGraph(ctx context.Context, id string) (loadbalancer.State, string, *loadbalancer.Node[events.Listener], *fault.Error) {
	v, ferr := a.readListener(ctx, id)
	if ferr != nil {
		return loadbalancer.State{}, "", nil, ferr
	}
	lbID := firstRef(v.LoadBalancers)
	s, ferr := a.loadForWrite(ctx, lbID)
	if ferr != nil {
		return s, lbID, nil, ferr
	}
	n, ok := s.Listeners[id]
	if !ok || n == nil {
		return s, lbID, nil, fault.NotFound(resListener, id)
	}
	return s, lbID, n, nil
}

func firstRef(refs []projections.IDRef) string {
	if len(refs) == 0 {
		return ""
	}
	return refs[0].ID
}

func (a *API) createListener(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	root, ferr := body{arg: "listener_", root: rootType("listener", listenerPOST)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	cmd, ferr := a.listenerCommand(ctx, root)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	res, ferr := a.execute(ctx, cmd.Spec.LoadBalancerID, cmd)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderListener(res.State, cmd.Spec.ID)
	a.writeOne(w, r, http.StatusCreated, "listener", view, nil)
}

// listenerCommand validates a listener POST as ListenersController.post
// does, in its order: with a default_pool, that pool (with its monitor and
// members) is created in the same command.
func (a *API) listenerCommand(ctx context.Context, root *record) (loadbalancer.CreateListener, *fault.Error) {
	var cmd loadbalancer.CreateListener
	l, ferr := resource(root, "listener")
	if ferr != nil {
		return cmd, ferr
	}
	if ferr := mandatoryNotNull(l, "protocol", "protocol_port"); ferr != nil {
		return cmd, ferr
	}
	lbID := l.strOr("loadbalancer_id", "None")
	s, ferr := a.loadForWrite(ctx, lbID)
	if ferr != nil {
		return cmd, ferr
	}
	lb := s.LoadBalancer.Spec
	if cmd.Spec, ferr = a.newListener(l, lb); ferr != nil {
		return cmd, ferr
	}
	if dp := l.sub("default_pool"); dp != nil {
		// As a load balancer POST does: the new pool replaces any
		// default_pool_id; the aggregate checks it suits the listener.
		if cmd.DefaultPool, ferr = a.newPoolGraph(ctx, dp, lb); ferr != nil {
			return cmd, ferr
		}
		cmd.Spec.DefaultPoolID = &cmd.DefaultPool.Spec.ID
	} else if cmd.Spec.DefaultPoolID != nil {
		if ferr := defaultPool(s, *cmd.Spec.DefaultPoolID, cmd.Spec.Protocol); ferr != nil {
			return cmd, ferr
		}
	}
	if ferr := validateNewListener(l, cmd.Spec, lb.VipAddress); ferr != nil {
		return cmd, ferr
	}
	return cmd, a.providers.listenerTLS(ctx, cmd.Spec)
}

// newListener builds the complete spec of a listener object of a POST on
// load balancer lb (db_prepare.create_listener's defaults), after the
// provider's protocol check. Checks against other objects are the caller's
// (default pool) and validateNewListener's.
func (a *API) newListener(l *record, lb events.LoadBalancer) (events.Listener, *fault.Error) {
	var spec events.Listener
	protocol := l.strOr("protocol", "")
	if ferr := a.providers.supportsListenerProtocol(lb.Provider, protocol); ferr != nil {
		return spec, ferr
	}
	if nonEmptyList(l.raw("l7policies")) {
		return spec, errL7NotServed()
	}
	spec = events.Listener{
		ID:                      a.newID(),
		ProjectID:               lb.ProjectID,
		LoadBalancerID:          lb.ID,
		Name:                    l.str("name"),
		Description:             l.str("description"),
		AdminStateUp:            l.boolOr("admin_state_up", true),
		Protocol:                protocol,
		ProtocolPort:            l.intOr("protocol_port", 0),
		ConnectionLimit:         l.intOr("connection_limit", defaultConnectionLimit),
		DefaultTLSContainerRef:  l.str("default_tls_container_ref"),
		SNIContainerRefs:        l.strings("sni_container_refs"),
		DefaultPoolID:           l.str("default_pool_id"),
		InsertHeaders:           l.stringMap("insert_headers"),
		TimeoutClientData:       l.intOr("timeout_client_data", defaultTimeoutClientData),
		TimeoutMemberConnect:    l.intOr("timeout_member_connect", defaultTimeoutMemberConnect),
		TimeoutMemberData:       l.intOr("timeout_member_data", defaultTimeoutMemberData),
		TimeoutTCPInspect:       l.intOr("timeout_tcp_inspect", defaultTimeoutTCPInspect),
		Tags:                    l.strings("tags"),
		ClientCATLSContainerRef: l.str("client_ca_tls_container_ref"),
		ClientAuthentication:    l.strOr("client_authentication", "NONE"),
		ClientCRLContainerRef:   l.str("client_crl_container_ref"),
		AllowedCIDRs:            l.strings("allowed_cidrs"),
		TLSCiphers:              l.str("tls_ciphers"),
		TLSVersions:             l.strings("tls_versions"),
		ALPNProtocols:           l.strings("alpn_protocols"),
	}
	if spec.InsertHeaders == nil {
		spec.InsertHeaders = map[string]string{} // Octavia's data model answers {}
	}
	if protocol == "TERMINATED_HTTPS" {
		if spec.TLSCiphers == nil {
			spec.TLSCiphers = ptr(defaultCiphers)
		}
		if !l.has("tls_versions") || l.null("tls_versions") {
			spec.TLSVersions = append([]string{}, defaultTLSVersions...)
		}
		if !l.has("alpn_protocols") || l.null("alpn_protocols") {
			spec.ALPNProtocols = append([]string{}, defaultALPN...)
		}
	}
	return spec, nil
}

// errL7NotServed refuses L7 policies, which this deployment does not serve.
func errL7NotServed() *fault.Error {
	return fault.Validation("L7 policies are not supported yet; create the listener without l7policies.")
}

// validateNewListener is _validate_create_listener's checks, in order.
func validateNewListener(l *record, spec events.Listener, vip *string) *fault.Error {
	protocol := spec.Protocol
	tlsRefs := truthy(spec.DefaultTLSContainerRef) || len(spec.SNIContainerRefs) > 0
	if len(spec.InsertHeaders) > 0 {
		if ferr := validateInsertHeaders(l.mapKeys("insert_headers"), protocol, true); ferr != nil {
			return ferr
		}
	}
	if isUDPOrSCTP(protocol) && (tlsRefs || len(spec.InsertHeaders) > 0) {
		return fault.Validation("%s protocol listener does not support TLS.", protocol)
	}
	canOffload := protocol == "TERMINATED_HTTPS" || (protocol == "PROMETHEUS" && tlsRefs)
	if !canOffload && tlsRefs {
		return fault.Validation("Certificate container references are not allowed on %s protocol listeners.", protocol)
	}
	if truthy(spec.ClientCATLSContainerRef) && !tlsRefs {
		return fault.Validation("An SNI or default certificate container reference must be provided with a client CA container reference.")
	}
	if canOffload && !tlsRefs {
		return fault.Validation("An SNI or default certificate container reference must be provided for %s protocol listeners.", protocol)
	}
	if spec.ClientAuthentication != "NONE" && !truthy(spec.ClientCATLSContainerRef) {
		return fault.Validation("Client authentication setting %s requires a client CA container reference.", spec.ClientAuthentication)
	}
	if truthy(spec.ClientCRLContainerRef) && !truthy(spec.ClientCATLSContainerRef) {
		return fault.Validation("A client authentication CA reference is required to specify a client authentication revocation list.")
	}
	if ferr := cidrsMatchVIP(vip, spec.AllowedCIDRs); ferr != nil {
		return ferr
	}
	if canOffload {
		if ferr := checkTLSVersions(spec.TLSVersions, true); ferr != nil {
			return ferr
		}
		return checkALPN(spec.ALPNProtocols, true)
	}
	return nil
}

func (a *API) updateListener(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	root, ferr := body{arg: "listener_", root: rootType("listener", listenerPUT)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	l, ferr := resource(root, "listener")
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	s, lbID, cur, ferr := a.listenerGraph(ctx, id)
	if ferr == nil {
		ferr = validateListenerUpdate(l, cur.Spec, s.LoadBalancer.Spec.VipAddress)
	}
	if ferr == nil {
		ferr = a.providers.listenerUpdateTLS(ctx, l, cur.Spec)
	}
	if ferr == nil && truthy(l.str("default_pool_id")) {
		ferr = defaultPool(s, *l.str("default_pool_id"), cur.Spec.Protocol)
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	p, err := patch(l, nullDefaults(l, map[string]any{
		"connection_limit":       defaultConnectionLimit,
		"timeout_client_data":    defaultTimeoutClientData,
		"timeout_member_connect": defaultTimeoutMemberConnect,
		"timeout_member_data":    defaultTimeoutMemberData,
		"timeout_tcp_inspect":    defaultTimeoutTCPInspect,
		"client_authentication":  "NONE",
		"tls_ciphers":            defaultCiphers,
		"tls_versions":           defaultTLSVersions,
		"alpn_protocols":         defaultALPN,
		"insert_headers":         map[string]string{},
	}))
	if err != nil {
		fault.Write(w, a.internal(ctx, "build patch", err))
		return
	}
	res, ferr := a.execute(ctx, lbID, loadbalancer.UpdateListener{ListenerID: id, Patch: p})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderListener(res.State, id)
	a.writeOne(w, r, http.StatusOK, "listener", view, nil)
}

// validateListenerUpdate is _validate_listener_PUT.
func validateListenerUpdate(l *record, cur events.Listener, vip *string) *fault.Error {
	protocol := cur.Protocol
	tlsRefs := truthy(l.str("default_tls_container_ref")) || len(l.strings("sni_container_refs")) > 0
	headers := l.stringMap("insert_headers")
	canOffload := protocol == "TERMINATED_HTTPS" || (protocol == "PROMETHEUS" && tlsRefs)
	if isUDPOrSCTP(protocol) && (tlsRefs || len(headers) > 0) {
		return fault.Validation("%s protocol listener does not support TLS or header insertion.", protocol)
	}
	if !canOffload && tlsRefs {
		return fault.Validation("Certificate container references are not allowed on %s protocol listeners.", protocol)
	}
	if l.has("client_authentication") && l.strOr("client_authentication", "None") != "NONE" &&
		!truthy(cur.ClientCATLSContainerRef) && !truthy(l.str("client_ca_tls_container_ref")) {
		return fault.Validation("Client authentication setting %s requires a client CA container reference.",
			l.strOr("client_authentication", "None"))
	}
	if len(headers) > 0 {
		if ferr := validateInsertHeaders(l.mapKeys("insert_headers"), protocol, false); ferr != nil {
			return ferr
		}
	}
	ca := truthy(l.str("client_ca_tls_container_ref")) || truthy(cur.ClientCATLSContainerRef)
	crl := truthy(l.str("client_crl_container_ref")) || truthy(cur.ClientCRLContainerRef)
	if crl && !ca {
		return fault.Validation("A client authentication CA reference is required to specify a client authentication revocation list.")
	}
	if cidrs := l.strings("allowed_cidrs"); len(cidrs) > 0 {
		if ferr := cidrsMatchVIP(vip, cidrs); ferr != nil {
			return ferr
		}
	}
	if l.has("tls_versions") && !l.null("tls_versions") {
		if ferr := checkTLSVersions(l.strings("tls_versions"), true); ferr != nil {
			return ferr
		}
	}
	if l.has("alpn_protocols") && !l.null("alpn_protocols") {
		return checkALPN(l.strings("alpn_protocols"), true)
	}
	return nil
}

func (a *API) deleteListener(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r)
	var lbID string
	if ferr == nil {
		_, lbID, _, ferr = a.listenerGraph(ctx, id)
	}
	if ferr == nil {
		_, ferr = a.execute(ctx, lbID, loadbalancer.DeleteListener{ListenerID: id})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusNoContent)
}

// mandatoryNotNull refuses mandatory attributes sent as null: wsme lets
// them through and Octavia then fails with a 500.
func mandatoryNotNull(rec *record, names ...string) *fault.Error {
	for _, n := range names {
		if rec.null(n) {
			return fault.BadRequest("%s", (&invalidInput{field: n, msg: "Mandatory field missing."}).Error())
		}
	}
	return nil
}
