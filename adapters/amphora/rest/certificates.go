package rest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/events"
)

// uploadCertificates fetches the PEM bundles of the configuration's TLS
// listeners and uploads them to the agent (Octavia's
// _process_tls_certificates), before the configuration naming them. A file
// is named by its content's hash: an unchanged certificate is the same
// file, a renewed one a new file (and a changed configuration, so a
// reload). It returns the files per listener: the default certificate
// (default_tls_container_ref, else the first SNI one), then the SNI ones.
func (d *Driver) uploadCertificates(ctx context.Context, c *client, amp events.Amphora, cfg amphora.Config) (map[string]string, map[string][]string, error) {
	var (
		def      map[string]string
		sni      map[string][]string
		uploaded = map[string]string{} // ref -> file, once per push
	)
	for _, l := range cfg.Listeners {
		refs := tlsRefs(l)
		if len(refs) == 0 || d.opts.Certificates == nil {
			continue // without a source, the renderer says what is missing
		}
		var files []string
		for _, ref := range refs {
			name, ok := uploaded[ref]
			if !ok {
				pem, err := d.opts.Certificates.BundlePEM(ctx, ref)
				if err != nil {
					return nil, nil, fmt.Errorf("listener %s: certificate %s: %w", l.ID, ref, err)
				}
				sum := sha256.Sum256(pem)
				name = hex.EncodeToString(sum[:]) + ".pem"
				if err := c.uploadCert(ctx, amp.ID, cfg.LoadBalancer.ID, name, pem); err != nil {
					return nil, nil, err
				}
				uploaded[ref] = name
			}
			files = append(files, agent.CertPath(name))
		}
		if def == nil {
			def, sni = map[string]string{}, map[string][]string{}
		}
		def[l.ID] = files[0]
		if len(files) > 1 {
			sni[l.ID] = files[1:]
		}
	}
	return def, sni, nil
}

// tlsRefs are the certificate references a listener terminates TLS with,
// the default first ("" when none).
func tlsRefs(l events.Listener) []string {
	hasRefs := (l.DefaultTLSContainerRef != nil && *l.DefaultTLSContainerRef != "") || len(l.SNIContainerRefs) > 0
	if !hasRefs || (l.Protocol != "TERMINATED_HTTPS" && l.Protocol != "PROMETHEUS") {
		return nil
	}
	var refs []string
	if l.DefaultTLSContainerRef != nil && *l.DefaultTLSContainerRef != "" {
		refs = append(refs, *l.DefaultTLSContainerRef)
	}
	for _, r := range l.SNIContainerRefs {
		if r != "" && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	return refs
}
