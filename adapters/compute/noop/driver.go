// Package noop is Octavia's noop compute driver: instances exist only in
// memory. Compute ids are a function of the amphora id, so CreateAmphora is
// idempotent per amphora even across a restart.
package noop

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/compute"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
)

var _ compute.Driver = (*Driver)(nil)

// Operation names, as FailOn and Calls spell them.
const (
	OpCreateAmphora = "compute.create_amphora"
	OpDeleteAmphora = "compute.delete_amphora"
	OpStatus        = "compute.status"
)

// DefaultLBNetworkIP is where noop amphorae "answer".
const DefaultLBNetworkIP = "127.0.0.1"

var computeNamespace = uuid.MustParse("0c8b6a4e-2d1f-4e3a-8b7c-9d0e1f2a3b4c")

// Config configures the noop compute driver.
type Config struct {
	// LBNetworkIP reported for every amphora; DefaultLBNetworkIP when empty.
	LBNetworkIP string `yaml:"lb_network_ip"`
	// Faults: per-call delay and injected failures (tests, e2e).
	Faults noopkit.Config `yaml:",inline"`
}

// Driver is the noop compute driver. Safe for concurrent use.
type Driver struct {
	rec   *noopkit.Recorder
	lbnIP string

	mu        sync.Mutex
	instances map[string]compute.Amphora // compute id -> instance
}

// New returns a noop compute driver.
func New(cfg Config) (*Driver, error) {
	rec, err := noopkit.New("compute", []string{"create_amphora", "delete_amphora", "status"}, cfg.Faults)
	if err != nil {
		return nil, err
	}
	if cfg.LBNetworkIP == "" {
		cfg.LBNetworkIP = DefaultLBNetworkIP
	}
	return &Driver{rec: rec, lbnIP: cfg.LBNetworkIP, instances: map[string]compute.Amphora{}}, nil
}

// CreateAmphora implements compute.Driver.
func (d *Driver) CreateAmphora(ctx context.Context, req compute.AmphoraRequest) (compute.Amphora, error) {
	if err := d.rec.Do(ctx, "create_amphora", fmt.Sprintf("lb=%s amphora=%s role=%s", req.LoadBalancerID, req.AmphoraID, req.Role)); err != nil {
		return compute.Amphora{}, err
	}
	if req.AmphoraID == "" {
		return compute.Amphora{}, fmt.Errorf("noop compute: create amphora: missing amphora id")
	}
	id := uuid.NewSHA1(computeNamespace, []byte(req.AmphoraID)).String()
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.instances[id]; ok {
		return a, nil
	}
	a := compute.Amphora{ComputeID: id, LBNetworkIP: d.lbnIP, ImageID: req.ImageID, ComputeFlavor: req.FlavorID}
	d.instances[id] = a
	return a, nil
}

// DeleteAmphora implements compute.Driver.
func (d *Driver) DeleteAmphora(ctx context.Context, computeID string) error {
	if err := d.rec.Do(ctx, "delete_amphora", "compute="+computeID); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.instances, computeID)
	return nil
}

// Status implements compute.Driver.
func (d *Driver) Status(ctx context.Context, computeID string) (string, error) {
	if err := d.rec.Do(ctx, "status", "compute="+computeID); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.instances[computeID]; !ok {
		return "", fmt.Errorf("%s: %w", computeID, compute.ErrAmphoraNotFound)
	}
	return compute.StatusOnline, nil
}

// Running is the number of instances that exist (created, not deleted).
func (d *Driver) Running() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.instances)
}

// Calls returns every call recorded so far.
func (d *Driver) Calls() []noopkit.Call { return d.rec.Calls() }

// Count is the number of calls of op (OpCreateAmphora, ...).
func (d *Driver) Count(op string) int { return d.rec.Count(op) }

// FailOn makes every later call of op fail with err (noopkit.ErrInjected when nil).
func (d *Driver) FailOn(op string, err error) { d.rec.FailOn(op, err) }

// FailNext makes the next n calls of op fail.
func (d *Driver) FailNext(op string, n int, err error) { d.rec.FailNext(op, n, err) }

// ClearFailures removes every injected failure.
func (d *Driver) ClearFailures() { d.rec.ClearFailures() }

// SetDelay changes the delay added to every later call.
func (d *Driver) SetDelay(delay time.Duration) { d.rec.SetDelay(delay) }
