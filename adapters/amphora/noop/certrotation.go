package noop

import (
	"context"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

var _ amphora.CertificateRotator = (*Driver)(nil)

// OpRotateCertificate is RotateCertificate.
const OpRotateCertificate = "amphora.rotate_certificate"

// CertificateExpiry implements amphora.CertificateRotator: a noop amphora
// has no agent certificate, so there is nothing to rotate.
func (d *Driver) CertificateExpiry(ctx context.Context, _ events.Amphora) (time.Time, error) {
	return time.Time{}, ctx.Err()
}

// RotateCertificate implements amphora.CertificateRotator: it records the
// call.
func (d *Driver) RotateCertificate(ctx context.Context, amp events.Amphora, _, _ []byte) error {
	return d.rec.Do(ctx, "rotate_certificate", "amphora="+amp.ID)
}
