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

func (a *API) healthMonitorRoutes(r chi.Router) {
	r.Get("/", a.listHealthMonitors)
	r.Post("/", a.createHealthMonitor)
	r.Get("/{id}", a.getHealthMonitor)
	r.Put("/{id}", a.updateHealthMonitor)
	r.Delete("/{id}", a.deleteHealthMonitor)
}

func (a *API) listHealthMonitors(w http.ResponseWriter, r *http.Request) {
	a.list(w, r, "healthmonitors", a.read.ListHealthMonitorsRaw)
}

func (a *API) readHealthMonitor(ctx context.Context, id string) (projections.HealthMonitorView, *fault.Error) {
	return readVisible(a, ctx, resHealthMonitor, id, a.read.GetHealthMonitor, func(v projections.HealthMonitorView) string { return v.ProjectID })
}

func (a *API) getHealthMonitor(w http.ResponseWriter, r *http.Request) {
	getOne(a, w, r, "healthmonitor", a.readHealthMonitor)
}

func (a *API) createHealthMonitor(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	root, ferr := body{arg: "health_monitor_", root: rootType("healthmonitor", healthMonitorPOST)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	spec, lbID, ferr := a.healthMonitorSpec(ctx, root)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	res, ferr := a.execute(ctx, lbID, loadbalancer.CreateHealthMonitor{Spec: spec})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderHealthMonitor(res.State, spec.ID)
	a.writeOne(w, r, http.StatusCreated, "healthmonitor", view, nil)
}

// healthMonitorSpec validates a POST as HealthMonitorController.post does.
func (a *API) healthMonitorSpec(ctx context.Context, root *record) (events.HealthMonitor, string, *fault.Error) {
	hm, ferr := resource(root, "healthmonitor")
	if ferr != nil {
		return events.HealthMonitor{}, "", ferr
	}
	_, lbID, pool, ferr := a.poolGraph(ctx, hm.strOr("pool_id", "None"))
	if ferr != nil {
		return events.HealthMonitor{}, "", ferr
	}
	spec, ferr := a.newHealthMonitor(hm, pool.Spec)
	return spec, lbID, ferr
}

// newHealthMonitor validates a monitor object for pool as
// HealthMonitorController.post and _validate_create_hm do, and builds it
// with Octavia's defaults (also for a pool object's healthmonitor).
func (a *API) newHealthMonitor(hm *record, pool events.Pool) (events.HealthMonitor, *fault.Error) {
	var spec events.HealthMonitor
	typ := hm.strOr("type", "")
	if isUDPOrSCTP(pool.Protocol) {
		if ferr := udpHealthMonitor(typ, hm.integer("delay"), pool.Protocol); ferr != nil {
			return spec, ferr
		}
	} else if typ == "UDP-CONNECT" || typ == "SCTP" {
		return spec, fault.Validation("The %s type is only supported for pools of type UDP/SCTP.", typ)
	}
	for _, f := range []string{"type", "delay", "timeout", "max_retries"} {
		if hm.null(f) {
			return spec, invalidOption("None", f)
		}
	}
	spec = events.HealthMonitor{
		ID:             a.newID(),
		ProjectID:      pool.ProjectID,
		PoolID:         pool.ID,
		Name:           hm.str("name"),
		AdminStateUp:   hm.boolOr("admin_state_up", true),
		Type:           typ,
		Delay:          hm.intOr("delay", 0),
		Timeout:        hm.intOr("timeout", 0),
		MaxRetries:     hm.intOr("max_retries", 0),
		MaxRetriesDown: hm.intOr("max_retries_down", defaultMaxRetriesDown),
		HTTPVersion:    hm.float("http_version"),
		DomainName:     hm.str("domain_name"),
		Tags:           hm.strings("tags"),
	}
	if typ == "HTTP" || typ == "HTTPS" {
		spec.HTTPMethod = ptr(orDefault(hm.str("http_method"), defaultHTTPMethod))
		spec.URLPath = ptr(orDefault(hm.str("url_path"), defaultURLPath))
		spec.ExpectedCodes = ptr(orDefault(hm.str("expected_codes"), defaultExpectedCodes))
	} else {
		for _, f := range []string{"http_method", "url_path", "expected_codes"} {
			if truthy(hm.str(f)) {
				return spec, invalidOption(f, "health monitors of type "+typ)
			}
		}
	}
	return spec, domainNeedsHTTP11(spec.DomainName, spec.HTTPVersion)
}

func orDefault(s *string, def string) string {
	if truthy(s) {
		return *s
	}
	return def
}

// udpHealthMonitor is _validate_healthmonitor_request_for_udp_sctp.
func udpHealthMonitor(typ string, delay *int, poolProtocol string) *fault.Error {
	switch typ {
	case "UDP-CONNECT", "SCTP", "TCP", "HTTP":
	default:
		return fault.Validation("The associated pool protocol is %s, so only a UDP-CONNECT/SCTP/TCP/HTTP "+
			"health monitor is supported.", poolProtocol)
	}
	if typ == "UDP-CONNECT" && delay != nil && *delay < udpConnectMinDelay {
		return fault.Validation("The request delay value %d should be larger than %d for UDP-CONNECT health monitor type.",
			*delay, udpConnectMinDelay)
	}
	return nil
}

// domainNeedsHTTP11: a domain_name needs http_version 1.1.
func domainNeedsHTTP11(domain *string, version *float64) *fault.Error {
	if truthy(domain) && version == nil {
		return fault.Validation("'http_version' must be specified when 'domain_name' is provided.")
	}
	if truthy(domain) && *version < 1.1 {
		return invalidOption("http_version "+pyFloatRepr(*version), "health monitors HTTP 1.1 domain name health check")
	}
	return nil
}

// healthMonitorGraph finds the graph of health monitor id for a write.
func (a *API) healthMonitorGraph(ctx context.Context, id string) (loadbalancer.State, string, *loadbalancer.Node[events.HealthMonitor], *fault.Error) {
	v, ferr := a.readHealthMonitor(ctx, id)
	if ferr != nil {
		return loadbalancer.State{}, "", nil, ferr
	}
	s, lbID, _, ferr := a.poolGraph(ctx, firstRef(v.Pools))
	if ferr != nil {
		return s, lbID, nil, ferr
	}
	n := s.HealthMonitors[id]
	if n == nil {
		return s, lbID, nil, fault.NotFound(resHealthMonitor, id)
	}
	return s, lbID, n, nil
}

func (a *API) updateHealthMonitor(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	root, ferr := body{arg: "health_monitor_", root: rootType("healthmonitor", healthMonitorPUT)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	hm, ferr := resource(root, "healthmonitor")
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	s, lbID, cur, ferr := a.healthMonitorGraph(ctx, id)
	if ferr == nil {
		ferr = validateHealthMonitorUpdate(hm, cur.Spec)
	}
	if ferr == nil {
		if pool := s.Pools[cur.Spec.PoolID]; pool != nil && isUDPOrSCTP(pool.Spec.Protocol) {
			ferr = udpHealthMonitor(cur.Spec.Type, hm.integer("delay"), pool.Spec.Protocol)
		}
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	p, err := patch(hm, nullDefaults(hm, map[string]any{
		"http_method":      defaultHTTPMethod,
		"url_path":         defaultURLPath,
		"expected_codes":   defaultExpectedCodes,
		"max_retries_down": defaultMaxRetriesDown,
	}))
	if err != nil {
		fault.Write(w, a.internal(ctx, "build patch", err))
		return
	}
	res, ferr := a.execute(ctx, lbID, loadbalancer.UpdateHealthMonitor{HealthMonitorID: id, Patch: p})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderHealthMonitor(res.State, id)
	a.writeOne(w, r, http.StatusOK, "healthmonitor", view, nil)
}

// validateHealthMonitorUpdate is _validate_update_hm.
func validateHealthMonitorUpdate(hm *record, cur events.HealthMonitor) *fault.Error {
	if cur.Type != "HTTP" && cur.Type != "HTTPS" {
		for _, f := range []string{"http_method", "url_path", "expected_codes"} {
			if hm.has(f) {
				return invalidOption(f, "health monitors of type "+cur.Type)
			}
		}
	}
	for _, f := range []string{"delay", "max_retries", "timeout"} {
		if hm.null(f) {
			return invalidOption("None", f)
		}
	}
	version := hm.float("http_version")
	if version == nil {
		version = cur.HTTPVersion
	}
	domain := hm.str("domain_name")
	if truthy(domain) && version == nil {
		return fault.Validation("'http_version' must be specified when 'domain_name' is provided.")
	}
	if !truthy(domain) {
		domain = cur.DomainName
	}
	if version != nil && truthy(domain) && *version < 1.1 {
		return invalidOption("http_version "+pyFloatRepr(*version), "health monitors HTTP 1.1 domain name health check")
	}
	return nil
}

func (a *API) deleteHealthMonitor(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r)
	var lbID string
	if ferr == nil {
		_, lbID, _, ferr = a.healthMonitorGraph(ctx, id)
	}
	if ferr == nil {
		_, ferr = a.execute(ctx, lbID, loadbalancer.DeleteHealthMonitor{HealthMonitorID: id})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusNoContent)
}
