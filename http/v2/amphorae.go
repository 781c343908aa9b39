package v2

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

const resAmphora = "Amphora"

// amphoraRoutes is the amphora admin API, /v2/octavia/amphorae (Octavia's
// api/v2/controllers/amphora.py). Admin only, as Octavia's default policy.
func (a *API) amphoraRoutes(r chi.Router) {
	r.Use(adminOnly)
	r.Get("/", a.listAmphorae)
	r.Get("/{id}", a.getAmphora)
	r.Get("/{id}/stats", a.amphoraStats)
	r.Put("/{id}/failover", a.failoverAmphora)
	r.Put("/{id}/config", a.configureAmphora)
}

func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !identity(r.Context()).IsAdmin {
			fault.Write(w, forbidden())
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *API) listAmphorae(w http.ResponseWriter, r *http.Request) {
	a.list(w, r, "amphorae", a.read.ListAmphoraeRaw)
}

func (a *API) readAmphora(ctx context.Context, id string) (projections.AmphoraView, *fault.Error) {
	if ferr := a.catchUp(ctx); ferr != nil {
		return projections.AmphoraView{}, ferr
	}
	v, err := a.read.GetAmphora(ctx, id)
	if err != nil {
		return v, a.readError(ctx, err, fault.NotFound(resAmphora, id))
	}
	return v, nil
}

func (a *API) getAmphora(w http.ResponseWriter, r *http.Request) {
	v, ferr := a.readAmphora(r.Context(), chi.URLParam(r, "id"))
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	a.writeOne(w, r, http.StatusOK, "amphora", v, fieldsParam(r))
}

func (a *API) amphoraStats(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	if ferr := a.catchUp(ctx); ferr != nil {
		fault.Write(w, ferr)
		return
	}
	stats, err := a.read.AmphoraStats(ctx, id)
	if err != nil {
		fault.Write(w, a.readError(ctx, err, fault.NotFound("Amphora stats for", id)))
		return
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"amphora_stats": stats})
}

// failoverAmphora fails over the amphora's load balancer: with one amphora
// per load balancer (Octavia's SINGLE topology) that replaces this amphora.
func (a *API) failoverAmphora(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	amp, ferr := a.readAmphora(ctx, chi.URLParam(r, "id"))
	if ferr == nil && amp.LoadBalancerID == nil {
		ferr = fault.NotFound(resAmphora, amp.ID)
	}
	if ferr == nil {
		_, ferr = a.execute(ctx, *amp.LoadBalancerID, loadbalancer.FailoverLoadBalancer{})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusAccepted)
}

// configureAmphora is Octavia's AmphoraUpdateController: the worker pushes
// the agent configuration asynchronously; the request is recorded on the
// load balancer's stream without locking it (any provisioning status).
func (a *API) configureAmphora(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	amp, ferr := a.readAmphora(ctx, chi.URLParam(r, "id"))
	if ferr == nil && amp.LoadBalancerID == nil {
		ferr = fault.NotFound(resAmphora, amp.ID)
	}
	if ferr == nil {
		_, ferr = a.execute(ctx, *amp.LoadBalancerID, loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: amp.ID})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusAccepted)
}
