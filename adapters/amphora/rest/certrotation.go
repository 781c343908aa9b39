package rest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

var _ amphora.CertificateRotator = (*Driver)(nil)

// CertificateExpiry implements amphora.CertificateRotator: the agent
// reports its certificate's NotAfter in GET /1.0/info.
func (d *Driver) CertificateExpiry(ctx context.Context, amp events.Amphora) (time.Time, error) {
	c, err := d.client(amp)
	if err != nil {
		return time.Time{}, err
	}
	info, err := c.info(ctx)
	if err != nil {
		return time.Time{}, err
	}
	d.rememberBase(amp.ID, info.BasePath)
	if info.CertNotAfter == "" {
		return time.Time{}, fmt.Errorf("amphora %s: its agent does not report cert_not_after", amp.ID)
	}
	t, err := time.Parse(time.RFC3339, info.CertNotAfter)
	if err != nil {
		return time.Time{}, fmt.Errorf("amphora %s: cert_not_after: %w", amp.ID, err)
	}
	return t, nil
}

// RotateCertificate implements amphora.CertificateRotator (Octavia's
// upload_cert_amp): PUT /1.0/certificate with the certificate and key in
// one PEM body, over the current mutual TLS connection. The cached
// connection is then dropped so the next call verifies the new
// certificate.
func (d *Driver) RotateCertificate(ctx context.Context, amp events.Amphora, certPEM, keyPEM []byte) error {
	c, err := d.client(amp)
	if err != nil {
		return err
	}
	if err := c.updateServerCert(ctx, slices.Concat(certPEM, keyPEM)); err != nil {
		return fmt.Errorf("amphora %s: %w", amp.ID, err)
	}
	c.close()
	return nil
}
