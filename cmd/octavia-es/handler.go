package main

import (
	"net/http"

	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	"github.com/octavia-es/octavia-es/adapters/metrics"
	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
)

// newHTTPHandler builds the Octavia API over the app's components; certs
// is the local certificate manager (nil with the noop drivers).
// health serves /healthcheck (nil: disabled); m serves /metrics and times requests.
func newHTTPHandler(cfg Config, deps v2.Deps, certs v2.CertificateChecker, health http.Handler, m *metrics.Metrics) (http.Handler, error) {
	return server.New(server.Config{
		V2: v2.Config{
			PaginationMaxLimit:    cfg.API.PaginationMaxLimit,
			ReadYourWritesTimeout: cfg.API.ReadYourWritesTimeout,
			EnabledProviders:      cfg.API.EnabledProviders,
			Capabilities:          providerCapabilities(cfg.Drivers, certs),
		},
		NoauthDefaultProject: cfg.API.NoauthDefaultProject,
		Healthcheck:          health,
		Metrics:              m.Handler(),
		Observer:             m,
	}, deps)
}

// providerCapabilities: amphorae driven through the agent run the HAProxy
// configuration haproxy.Render writes, so the provider serves what it
// renders (no UDP, no SCTP), and TLS container references must resolve in
// the local certificate manager; the noop drivers accept what Octavia's
// amphora provider accepts and check no reference.
func providerCapabilities(d DriversConfig, certs v2.CertificateChecker) v2.ProviderCapabilities {
	if d.Amphora != "rest" {
		return v2.ProviderCapabilities{}
	}
	return v2.ProviderCapabilities{
		Certificates:      certs,
		ListenerProtocols: haproxy.SupportedListenerProtocols(),
		PoolProtocols:     haproxy.SupportedPoolProtocols(),
	}
}
