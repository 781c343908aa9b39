package main

import (
	"net/http"

	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
)

// newHTTPHandler builds the Octavia API over the app's components.
func newHTTPHandler(cfg Config, deps v2.Deps) (http.Handler, error) {
	return server.New(server.Config{
		V2: v2.Config{
			PaginationMaxLimit:    cfg.API.PaginationMaxLimit,
			ReadYourWritesTimeout: cfg.API.ReadYourWritesTimeout,
			EnabledProviders:      cfg.API.EnabledProviders,
		},
		NoauthDefaultProject: cfg.API.NoauthDefaultProject,
	}, deps)
}
