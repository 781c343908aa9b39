// Package certificates issues the certificates of the mutually
// authenticated channel between the controller and the amphora agents, as
// Octavia's certificate generator (octavia/certificates/generator): the
// controller's CA signs each amphora's server certificate at boot and the
// controller's client certificate; each side trusts only that CA.
// Implementations live in sub-packages (local: a CA kept on disk, as
// Octavia's LocalCertGenerator).
package certificates

import (
	"context"
	"crypto/x509"
	"time"
)

// Generator issues certificates signed by one CA. Certificates and keys are
// PEM encoded. Safe for concurrent use.
type Generator interface {
	// IssueServer issues an amphora agent's server certificate: its
	// subject and a DNS name are the amphora id (the name the controller
	// verifies, as Octavia's driver asserts the hostname is the amphora
	// id), plus hosts (IP addresses or DNS names).
	IssueServer(ctx context.Context, amphoraID string, hosts []string, validity time.Duration) (certPEM, keyPEM []byte, err error)

	// IssueClient issues a client certificate (the controller's) named name.
	IssueClient(ctx context.Context, name string, validity time.Duration) (certPEM, keyPEM []byte, err error)

	// CACertPEM is the CA certificate, as an agent's client_ca_file.
	CACertPEM() []byte

	// CertPool holds the CA certificate, to verify either side.
	CertPool() *x509.CertPool
}
