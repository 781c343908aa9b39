package local

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	certlocal "github.com/octavia-es/octavia-es/adapters/certificates/local"
)

// The controller's CA is what the driver is wired with.
var _ CA = (*certlocal.CA)(nil)

// testCA is the controller's local CA, counting what it issues and, when
// rename is set, issuing certificates for another amphora (a port answered
// by the wrong agent).
type testCA struct {
	*certlocal.CA
	client tls.Certificate // the controller's client certificate

	mu     sync.Mutex
	issued []string // amphora ids, in order
	rename string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	ca, err := certlocal.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueClient(context.Background(), "controller", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{CA: ca, client: client}
}

func (ca *testCA) IssueServer(ctx context.Context, amphoraID string, hosts []string, validity time.Duration) ([]byte, []byte, error) {
	ca.mu.Lock()
	ca.issued = append(ca.issued, amphoraID)
	if ca.rename != "" {
		amphoraID = ca.rename
	}
	ca.mu.Unlock()
	return ca.CA.IssueServer(ctx, amphoraID, hosts, validity)
}

func (ca *testCA) issuedIDs() []string {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return append([]string(nil), ca.issued...)
}

// badCA hands out a CA certificate that is not PEM.
type badCA struct{ *testCA }

func (badCA) CACertPEM() []byte { return []byte("not a certificate") }
