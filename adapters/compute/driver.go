// Package compute is the compute capability as Octavia splits it
// (octavia/compute/compute_base.py): boot and delete the instances that run
// amphorae. Drivers live in sub-packages (noop, later local, which starts
// `octavia-es amphora-agent` processes) and all pass the suite in
// computetest.
package compute

import (
	"context"
	"errors"
)

// Status values, as Octavia's compute drivers report them.
const (
	StatusOnline  = "ONLINE"
	StatusOffline = "OFFLINE"
	// StatusError: the instance failed and is not running (local: its agent
	// process exited unexpectedly). It still exists until deleted.
	StatusError = "ERROR"
	// StatusShutoff: the instance stopped cleanly without being deleted
	// (local: its agent process exited with status 0 on its own).
	StatusShutoff = "SHUTOFF"
)

// ErrAmphoraNotFound: Status of a compute instance that does not exist (never
// created, or deleted).
var ErrAmphoraNotFound = errors.New("compute: amphora not found")

// AmphoraRequest describes the amphora to boot. AmphoraID is chosen by the
// caller and names the instance; the optional fields are the load balancer's
// flavor and availability zone as the driver understands them.
type AmphoraRequest struct {
	LoadBalancerID   string
	AmphoraID        string
	Role             string // STANDALONE, MASTER, BACKUP
	FlavorID         string
	ImageID          string
	AvailabilityZone string
}

// Amphora is a booted instance.
type Amphora struct {
	ComputeID     string
	LBNetworkIP   string // where the amphora agent's API answers
	AgentPort     int    // the agent API's port on LBNetworkIP; 0: the amphora driver's default
	ImageID       string
	ComputeFlavor string
}

// Driver is a compute driver. All methods are safe for concurrent use.
type Driver interface {
	// CreateAmphora boots an amphora and returns once the instance runs.
	// It is idempotent per AmphoraID: while an instance exists for it, a
	// second call returns it (a saga retried after a crash must not leak
	// instances). On error nothing is left running.
	CreateAmphora(ctx context.Context, req AmphoraRequest) (Amphora, error)

	// DeleteAmphora removes an instance. Deleting an unknown or already
	// deleted instance is not an error.
	DeleteAmphora(ctx context.Context, computeID string) error

	// Status reports StatusOnline or StatusOffline (StatusError or
	// StatusShutoff for an instance that stopped on its own), or
	// ErrAmphoraNotFound.
	Status(ctx context.Context, computeID string) (string, error)
}
