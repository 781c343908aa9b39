package v2

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history"
)

// paramAsOf selects a past state: a global position or an RFC 3339 time.
const paramAsOf = "as_of"

// asOf routes a GET carrying ?as_of= to past, any other to live.
func (a *API) asOf(live, past http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.URL.Query()[paramAsOf]; ok && a.history != nil {
			past(w, r)
			return
		}
		live(w, r)
	}
}

// loadBalancerAsOf folds the load balancer's stream up to ?as_of= with the
// aggregate's Evolve and checks the caller may see it: 404 when it was
// never created, or did not exist yet or any more at that point; 403 for
// another project's load balancer, as the live GET.
func (a *API) loadBalancerAsOf(r *http.Request, allowed ...string) (loadbalancer.State, *fault.Error) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	if ferr := checkParams(r, append([]string{paramAsOf}, allowed...)...); ferr != nil {
		return loadbalancer.State{}, ferr
	}
	raw := r.URL.Query().Get(paramAsOf)
	at, err := history.ParseAt(raw)
	if err != nil {
		return loadbalancer.State{}, badParam(paramAsOf, raw, "Expected a position (a positive integer) or an RFC 3339 time.")
	}
	s, project, err := a.history.reader.StateAt(ctx, id, at)
	if errors.Is(err, history.ErrNotFound) {
		return s, fault.NotFound(resLoadBalancer, id)
	}
	if err != nil {
		return s, a.internal(ctx, "fold load balancer history", err)
	}
	if ferr := a.visible(ctx, project); ferr != nil {
		return s, ferr
	}
	if !s.Alive() {
		return s, fault.NotFound(resLoadBalancer, id)
	}
	return s, nil
}

// getLoadBalancerAsOf is GET /loadbalancers/{id}?as_of=, rendered by the
// read model's own render function: as of the head it answers what the
// live GET answers.
func (a *API) getLoadBalancerAsOf(w http.ResponseWriter, r *http.Request) {
	s, ferr := a.loadBalancerAsOf(r, "fields")
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	a.writeOne(w, r, http.StatusOK, "loadbalancer", projections.RenderLoadBalancer(s), fieldsParam(r))
}

// loadBalancerStatusAsOf is GET /loadbalancers/{id}/status?as_of=.
func (a *API) loadBalancerStatusAsOf(w http.ResponseWriter, r *http.Request) {
	s, ferr := a.loadBalancerAsOf(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"statuses": projections.RenderStatusTree(s)})
}
