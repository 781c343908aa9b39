package v2

import (
	"github.com/octavia-es/octavia-es/http/fault"
)

// providers is the one place that knows which provider drivers are enabled
// and what they support (Octavia's driver_factory.get_driver plus a
// driver's capability checks).
type providers struct {
	enabled []string
}

func newProviders(enabled []string) providers { return providers{enabled: enabled} }

// resolve is Octavia's choice of provider for a new load balancer: the
// default when the request names none, "amphora" when it names an empty
// one, and the named one only if it is enabled.
func (p providers) resolve(rec *record) (string, *fault.Error) {
	name := p.enabled[0]
	if rec.has("provider") {
		name = rec.strOr("provider", "")
		if name == "" {
			name = "amphora"
		}
	}
	return name, p.check(name)
}

// check refuses a provider that is not enabled (also for existing load
// balancers whose provider was disabled since).
func (p providers) check(name string) *fault.Error {
	if name == "" {
		name = "amphora"
	}
	if !contains(p.enabled, name) {
		return fault.BadRequest("Provider '%s' is not enabled.", name)
	}
	return nil
}

// supportsProtocol is the provider's capability check for a listener or
// pool protocol. Octavia's amphora driver accepts every protocol the API
// types allow; a provider refusing one answers Octavia's
// ProviderUnsupportedOptionError (501).
func (p providers) supportsProtocol(provider, protocol string) *fault.Error {
	if err := p.check(provider); err != nil {
		return err
	}
	return nil
}
