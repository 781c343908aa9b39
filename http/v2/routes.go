package v2

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/http/fault"
)

// Routes mounts the API on r, which serves one of Octavia's version
// prefixes (/v2 or /v2.0).
func (a *API) Routes(r chi.Router) {
	r.Get("/", versionName)
	r.Get("/lbaas", versionName)
	r.Route("/lbaas/loadbalancers", a.loadBalancerRoutes)
	r.Route("/lbaas/listeners", a.listenerRoutes)
	r.Route("/lbaas/pools", a.poolRoutes)
	r.Route("/lbaas/healthmonitors", a.healthMonitorRoutes)
	r.Get("/lbaas/providers", a.listProviders)
	r.Route("/octavia/amphorae", a.amphoraRoutes)
	// Event history (events.go, stream.go).
	r.Get("/lbaas/events/stream", a.withHistory(a.eventStream))
	r.With(adminOnly).Get("/octavia/events", a.withHistory(a.globalEvents))
	// No flavors or availability zones exist here; the CLI resolves
	// --flavor and --availability-zone through these lists.
	r.Get("/lbaas/flavors", emptyList("flavors"))
	r.Get("/lbaas/flavors/{id}", notFoundResource("Flavor"))
	r.Get("/lbaas/availabilityzones", emptyList("availability_zones"))
	r.Get("/lbaas/availabilityzones/{id}", notFoundResource("Availability Zone"))
}

func emptyList(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fault.WriteJSON(w, http.StatusOK, map[string]any{key: []any{}, key + "_links": []any{}})
	}
}

func notFoundResource(resource string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fault.Write(w, fault.NotFound(resource, chi.URLParam(r, "id")))
	}
}

// versionName is GET /v2 and /v2/lbaas: Octavia's V2Controller answers the
// JSON string "v2".
func versionName(w http.ResponseWriter, r *http.Request) {
	fault.WriteJSON(w, http.StatusOK, "v2")
}

// providerDescriptions are Octavia's descriptions of its built-in providers.
var providerDescriptions = map[string]string{
	"amphora": "The Octavia Amphora driver.",
	"octavia": "Deprecated alias of the Octavia Amphora driver.",
}

// listProviders is GET /v2/lbaas/providers.
func (a *API) listProviders(w http.ResponseWriter, r *http.Request) {
	out := []map[string]string{}
	for _, p := range a.providers.enabled {
		out = append(out, map[string]string{"name": p, "description": providerDescriptions[p]})
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"providers": out})
}
