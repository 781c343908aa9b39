package v2

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
)

// The checks of TLS container references against the certificate manager
// (Octavia's BaseController._validate_tls_refs and
// _validate_client_ca_and_crl_refs), run only when the drivers in use have
// one (ProviderCapabilities.Certificates).

// checkTLSRefs is _validate_tls_refs: every reference the certificate
// manager cannot read is named, in the order given, as
// CertificateRetrievalException (400) does.
func (p providers) checkTLSRefs(ctx context.Context, refs []string) *fault.Error {
	if p.caps.Certificates == nil {
		return nil
	}
	var bad []any
	for _, ref := range refs {
		if err := p.caps.Certificates.CheckCertificate(ctx, ref); err != nil {
			bad = append(bad, ref)
		}
	}
	if len(bad) > 0 {
		return errCertificateRetrieval(bad)
	}
	return nil
}

func errCertificateRetrieval(refs []any) *fault.Error {
	return fault.BadRequest("Could not retrieve certificate: %s", pyRepr(refs))
}

// checkClientCA is _validate_client_ca_and_crl_refs: both references
// readable, the CA a PEM certificate, the revocation list a PEM CRL that
// CA signed. Octavia's messages end with its x509 library's error; here
// with Go's.
func (p providers) checkClientCA(ctx context.Context, caRef, crlRef string) *fault.Error {
	m := p.caps.Certificates
	if m == nil {
		return nil
	}
	var bad []any
	caPEM, err := m.GetSecret(ctx, caRef)
	if err != nil {
		bad = append(bad, caRef)
	}
	var crlPEM []byte
	if crlRef != "" {
		if crlPEM, err = m.GetSecret(ctx, crlRef); err != nil {
			bad = append(bad, crlRef)
		}
	}
	if len(bad) > 0 {
		return errCertificateRetrieval(bad)
	}
	ca, err := firstPEM(caPEM, "CERTIFICATE", x509.ParseCertificate)
	if err != nil {
		return fault.Validation("The client authentication CA certificate is invalid. It must be a valid x509 PEM format certificate. Error: %s", err)
	}
	if crlRef == "" {
		return nil
	}
	crl, err := firstPEM(crlPEM, "X509 CRL", x509.ParseRevocationList)
	if err != nil {
		return fault.Validation("The client authentication certificate revocation list is invalid. It must be a valid x509 PEM format certificate revocation list. Error: %s", err)
	}
	if crl.CheckSignatureFrom(ca) != nil {
		return fault.Validation("The CRL specified is not valid for client certificate authority reference supplied.")
	}
	return nil
}

// firstPEM parses the first PEM block, which must be of type typ (as
// Python's load_pem_x509_* read the first one).
func firstPEM[T any](raw []byte, typ string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	b, _ := pem.Decode(raw)
	if b == nil {
		return zero, errors.New("no PEM data found")
	}
	if b.Type != typ {
		return zero, fmt.Errorf("PEM block of type %q, want %q", b.Type, typ)
	}
	return parse(b.Bytes)
}

// listenerTLS is the certificate checks of a listener POST, in Octavia's
// order: its SNI and default references, then its client CA and CRL.
func (p providers) listenerTLS(ctx context.Context, spec events.Listener) *fault.Error {
	refs := append([]string{}, spec.SNIContainerRefs...)
	if truthy(spec.DefaultTLSContainerRef) {
		refs = append(refs, *spec.DefaultTLSContainerRef)
	}
	if ferr := p.checkTLSRefs(ctx, refs); ferr != nil {
		return ferr
	}
	if truthy(spec.ClientCATLSContainerRef) {
		return p.checkClientCA(ctx, *spec.ClientCATLSContainerRef, deref(spec.ClientCRLContainerRef))
	}
	return nil
}

// listenerUpdateTLS is listenerTLS for a PUT: the references it sets, and
// the client CA and CRL it sets or the listener has (as Octavia's put).
func (p providers) listenerUpdateTLS(ctx context.Context, l *record, cur events.Listener) *fault.Error {
	refs := l.strings("sni_container_refs")
	if ref := l.str("default_tls_container_ref"); truthy(ref) {
		refs = append(refs, *ref)
	}
	if ferr := p.checkTLSRefs(ctx, refs); ferr != nil {
		return ferr
	}
	ca, crl := deref(cur.ClientCATLSContainerRef), deref(cur.ClientCRLContainerRef)
	if ref := l.str("client_ca_tls_container_ref"); truthy(ref) {
		ca = *ref
	}
	if ref := l.str("client_crl_container_ref"); truthy(ref) {
		crl = *ref
	}
	if ca != "" {
		return p.checkClientCA(ctx, ca, crl)
	}
	return nil
}

// poolTLS is _validate_create_pool's and _validate_pool_PUT's certificate
// checks: the client certificate reference, then the CA and its CRL
// ("" = none).
func (p providers) poolTLS(ctx context.Context, tls, ca, crl string) *fault.Error {
	if tls != "" {
		if ferr := p.checkTLSRefs(ctx, []string{tls}); ferr != nil {
			return ferr
		}
	}
	if ca != "" {
		return p.checkClientCA(ctx, ca, crl)
	}
	return nil
}
