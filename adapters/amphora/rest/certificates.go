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

// TLSFiles are the uploaded files of a configuration's TLS listeners by
// listener id, as the configuration names them (haproxy.Options' fields
// of the same names).
type TLSFiles struct {
	Certificates    map[string]string
	SNICertificates map[string][]string
	ClientCAs       map[string]string
	ClientCRLs      map[string]string
	// By pool id.
	PoolCertificates map[string]string
	PoolCAs          map[string]string
	PoolCRLs         map[string]string
}

// uploader uploads each file once per push.
type uploader struct {
	c        *client
	amp      events.Amphora
	lbID     string
	uploaded map[string]string // ref (and kind) -> file
}

// file uploads content under its hash's name: an unchanged file keeps its
// name, a renewed one gets a new name (a changed configuration, so a
// reload).
func (u *uploader) file(ctx context.Context, key string, get func() ([]byte, error)) (string, error) {
	if name, ok := u.uploaded[key]; ok {
		return name, nil
	}
	content, err := get()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(content)
	filename := hex.EncodeToString(sum[:]) + ".pem"
	if err := u.c.uploadCert(ctx, u.amp.ID, u.lbID, filename, content); err != nil {
		return "", err
	}
	u.uploaded[key] = agent.CertPath(filename)
	return u.uploaded[key], nil
}

// uploadCertificates fetches what the configuration's TLS listeners need
// from the certificate manager and uploads it to the agent before the
// configuration naming it (Octavia's _process_tls_certificates and
// _process_secret, _process_pool_certs): per listener, its default
// certificate (default_tls_container_ref, else the first SNI one), the SNI
// ones, the client CA and the CA's revocation list; per tls_enabled pool,
// the client certificate it presents, the CA verifying members and its
// revocation list. Without a certificate source nothing is uploaded and
// the renderer says what is missing.
func (d *Driver) uploadCertificates(ctx context.Context, c *client, amp events.Amphora, cfg amphora.Config) (TLSFiles, error) {
	var out TLSFiles
	src := d.opts.Certificates
	if src == nil {
		return out, nil
	}
	u := &uploader{c: c, amp: amp, lbID: cfg.LoadBalancer.ID, uploaded: map[string]string{}}
	for _, l := range cfg.Listeners {
		refs := tlsRefs(l)
		if len(refs) == 0 {
			continue
		}
		var files []string
		for _, ref := range refs {
			name, err := u.file(ctx, "cert "+ref, func() ([]byte, error) { return src.BundlePEM(ctx, ref) })
			if err != nil {
				return out, fmt.Errorf("listener %s: certificate %s: %w", l.ID, ref, err)
			}
			files = append(files, name)
		}
		setFile(&out.Certificates, l.ID, files[0])
		if len(files) > 1 {
			if out.SNICertificates == nil {
				out.SNICertificates = map[string][]string{}
			}
			out.SNICertificates[l.ID] = files[1:]
		}
		for _, f := range []tlsFile{
			{l.ClientCATLSContainerRef, "client CA", &out.ClientCAs, false},
			{l.ClientCRLContainerRef, "client CRL", &out.ClientCRLs, false},
		} {
			if err := u.upload(ctx, src, "listener "+l.ID, l.ID, f); err != nil {
				return out, err
			}
		}
	}
	for _, p := range cfg.Pools {
		if !p.TLSEnabled {
			continue // as Octavia: references of a pool without TLS are not used
		}
		for _, f := range []tlsFile{
			{p.TLSContainerRef, "client certificate", &out.PoolCertificates, true},
			{p.CATLSContainerRef, "CA", &out.PoolCAs, false},
			{p.CRLContainerRef, "CRL", &out.PoolCRLs, false},
		} {
			if err := u.upload(ctx, src, "pool "+p.ID, p.ID, f); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// tlsFile is one reference of an object and where its file goes.
type tlsFile struct {
	ref    *string
	what   string
	into   *map[string]string
	bundle bool // a certificate and its key (else a secret as it is)
}

func (u *uploader) upload(ctx context.Context, src CertificateSource, obj, id string, f tlsFile) error {
	if f.ref == nil || *f.ref == "" {
		return nil
	}
	ref := *f.ref
	get, key := func() ([]byte, error) { return src.GetSecret(ctx, ref) }, "secret "+ref
	if f.bundle {
		get, key = func() ([]byte, error) { return src.BundlePEM(ctx, ref) }, "cert "+ref
	}
	name, err := u.file(ctx, key, get)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", obj, f.what, ref, err)
	}
	setFile(f.into, id, name)
	return nil
}

func setFile(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// tlsRefs are the certificate references a listener terminates TLS with,
// the default first.
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
