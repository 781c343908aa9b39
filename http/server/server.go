// Package server assembles octavia-es's HTTP front: request ids, the auth
// middleware, Octavia's version discovery, the v2 API under /v2 and /v2.0
// (the openstack CLI and gophercloud use /v2.0), the Neutron subnet shim,
// and Octavia's answers for unknown paths and methods.
package server

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/octavia-es/octavia-es/http/auth"
	"github.com/octavia-es/octavia-es/http/fault"
	v2 "github.com/octavia-es/octavia-es/http/v2"
)

// Config is the HTTP layer's configuration.
type Config struct {
	V2 v2.Config
	// NoauthDefaultProject is the project of a noauth request that names
	// none ("" answers as Octavia does: no project).
	NoauthDefaultProject string
	// Healthcheck serves GET/HEAD /healthcheck ahead of every middleware,
	// as Octavia's oslo middleware does; nil: disabled (Octavia's default),
	// the path is then an unknown one (404).
	Healthcheck http.Handler
	// Metrics serves /metrics; nil: not served.
	Metrics http.Handler
	// Observer records each API request's latency; nil: none.
	Observer Observer
}

// New returns the handler serving the whole API.
func New(cfg Config, deps v2.Deps) (http.Handler, error) {
	api, err := v2.New(cfg.V2, deps)
	if err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	r := chi.NewRouter()
	r.Use(observe(cfg.Observer), requestID, recoverer(log), accessLog(log), auth.NoAuth(cfg.NoauthDefaultProject), middleware.StripSlashes)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		fault.Write(w, fault.NewPecan(http.StatusNotFound, ""))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		fault.Write(w, fault.NewPecan(http.StatusMethodNotAllowed, ""))
	})
	r.Get("/", versions)
	r.Route("/v2", api.Routes)
	r.Route("/v2.0", func(r chi.Router) {
		api.Routes(r)
		api.NeutronRoutes(r)
	})
	return front(r, cfg.Healthcheck, cfg.Metrics), nil
}

// front answers the operational paths before the API's middleware (no
// auth, no request id: a load balancer's probe or a scraper is no API
// client), on the exact paths only as oslo's healthcheck does.
func front(api, health, metrics http.Handler) http.Handler {
	if health == nil && metrics == nil {
		return api
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthcheck" && health != nil:
			health.ServeHTTP(w, r)
		case r.URL.Path == "/metrics" && metrics != nil:
			metrics.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}
