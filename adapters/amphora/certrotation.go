package amphora

import (
	"context"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// CertificateRotator is the optional capability of a driver whose
// amphorae serve their agent API with a certificate the controller issued
// and can replace while running (Octavia's housekeeping CertRotation and
// upload_cert_amp).
type CertificateRotator interface {
	// CertificateExpiry is when the amphora's agent certificate expires;
	// the zero time: the amphora has none to rotate.
	CertificateExpiry(ctx context.Context, amp events.Amphora) (time.Time, error)
	// RotateCertificate makes the agent serve certPEM (with its chain) and
	// keyPEM from its next connection on.
	RotateCertificate(ctx context.Context, amp events.Amphora, certPEM, keyPEM []byte) error
}
