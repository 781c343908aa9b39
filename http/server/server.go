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
	r.Use(requestID, recoverer(log), accessLog(log), auth.NoAuth(cfg.NoauthDefaultProject), middleware.StripSlashes)
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
	return r, nil
}
