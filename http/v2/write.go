package v2

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/http/fault"
)

// loadLB is the current state of a load balancer graph, 404 when it does
// not exist (or is deleted).
func (a *API) loadLB(ctx context.Context, lbID string) (loadbalancer.State, *fault.Error) {
	s, err := a.commands.Load(ctx, lbID)
	if err != nil {
		return s, a.commandError(ctx, lbID, err)
	}
	if !s.Exists || s.Gone {
		return s, fault.NotFound(resLoadBalancer, lbID)
	}
	return s, nil
}

// loadForWrite loads the graph a write changes and checks the caller may
// change it and its provider is still enabled.
func (a *API) loadForWrite(ctx context.Context, lbID string) (loadbalancer.State, *fault.Error) {
	s, ferr := a.loadLB(ctx, lbID)
	if ferr != nil {
		return s, ferr
	}
	if id := identity(ctx); !id.IsAdmin && id.ProjectID != s.LoadBalancer.Spec.ProjectID {
		return s, forbidden()
	}
	return s, a.providers.check(s.LoadBalancer.Spec.Provider)
}

// execute runs cmd on the graph of lbID.
func (a *API) execute(ctx context.Context, lbID string, cmd loadbalancer.Command) (loadbalancer.Result, *fault.Error) {
	res, err := a.commands.Execute(ctx, lbID, cmd, metadata(ctx))
	if err != nil {
		return res, a.commandError(ctx, lbID, err)
	}
	return res, nil
}

// patch is a PUT body as the aggregate merges it: the attributes sent,
// validated and normalized, with overrides (Octavia's defaults for
// attributes reset with null).
func patch(rec *record, overrides map[string]any) (loadbalancer.Patch, error) {
	p := loadbalancer.Patch{}
	for _, k := range rec.order {
		v := rec.jsonValue(k)
		if o, ok := overrides[k]; ok {
			v = o
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		p[k] = b
	}
	return p, nil
}

// nullDefaults are the overrides for attributes sent as null that Octavia
// resets to a default (the _set_default_on_none of its controllers).
func nullDefaults(rec *record, defaults map[string]any) map[string]any {
	out := map[string]any{}
	for k, def := range defaults {
		if rec.null(k) {
			out[k] = def
		}
	}
	// Octavia's to_dict turns a null admin_state_up into False.
	if rec.null("admin_state_up") {
		out["admin_state_up"] = false
	}
	return out
}

// checkParams refuses query parameters a write endpoint does not declare,
// as wsme does: 400 'Unknown argument: "<names>"'.
func checkParams(r *http.Request, allowed ...string) *fault.Error {
	var unknown []string
	for _, n := range queryNames(r.URL.RawQuery) {
		if !contains(allowed, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fault.BadRequest(`Unknown argument: "%s"`, strings.Join(unknown, ", "))
	}
	return nil
}

// boolFromString is oslo's strutils.bool_from_string (default False).
func boolFromString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

// nonEmptyList: a list attribute sent with items.
func nonEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) > 0
}

func ptr[T any](v T) *T { return &v }
