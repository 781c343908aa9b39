package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/metrics"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

// Housekeeping defaults (Octavia's [house_keeping] cert_interval and
// cert_expiry_buffer).
const (
	defaultCertRotateInterval = time.Hour
	defaultCertExpiryBuffer   = 14 * 24 * time.Hour
)

// amphoraLister lists the amphorae whose agents may need a new
// certificate.
type amphoraLister func(ctx context.Context) ([]events.Amphora, error)

// serverCertIssuer issues an amphora agent's server certificate
// (certificates/local.CA).
type serverCertIssuer interface {
	IssueServer(ctx context.Context, amphoraID string, hosts []string, validity time.Duration) ([]byte, []byte, error)
}

// certRotation is Octavia's housekeeping CertRotation: every interval it
// asks each amphora's agent when its certificate expires and gives the
// ones expiring within buffer a new one from the controller's CA, over the
// current mutual TLS connection. The agent swaps it live; HAProxy is
// untouched. Rotations are logged and counted, not recorded as events: the
// certificate is transport, not load balancer state.
type certRotation struct {
	amphorae amphoraLister
	rotator  amphora.CertificateRotator
	issuer   serverCertIssuer
	interval time.Duration
	buffer   time.Duration
	validity time.Duration
	now      func() time.Time
	counted  func(outcome string) // "rotated", "failed"; may be nil
	log      *slog.Logger
}

// run rotates at once, then every interval, until ctx ends.
func (r *certRotation) run(ctx context.Context) error {
	if r.issuer == nil {
		r.log.Info("certificate rotation: the amphora drivers use no agent certificates, nothing to rotate")
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		r.rotateDue(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// rotateDue rotates the certificates that expire within the buffer and
// returns how many it rotated. A failing amphora is logged and retried
// next round; the others go on.
func (r *certRotation) rotateDue(ctx context.Context) int {
	amps, err := r.amphorae(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("certificate rotation: list amphorae", "err", err)
		}
		return 0
	}
	n := 0
	for _, amp := range amps {
		if ctx.Err() != nil {
			return n
		}
		rotated, err := r.rotate(ctx, amp)
		switch {
		case err != nil:
			r.count("failed")
			r.log.Warn("certificate rotation failed", "amphora_id", amp.ID, "err", err)
		case rotated:
			n++
			r.count("rotated")
		}
	}
	return n
}

func (r *certRotation) rotate(ctx context.Context, amp events.Amphora) (bool, error) {
	exp, err := r.rotator.CertificateExpiry(ctx, amp)
	if err != nil {
		return false, fmt.Errorf("certificate expiry: %w", err)
	}
	if exp.IsZero() || exp.Sub(r.now()) > r.buffer {
		return false, nil
	}
	var hosts []string
	if amp.LBNetworkIP != nil && *amp.LBNetworkIP != "" {
		hosts = append(hosts, *amp.LBNetworkIP)
	}
	certPEM, keyPEM, err := r.issuer.IssueServer(ctx, amp.ID, hosts, r.validity)
	if err != nil {
		return false, fmt.Errorf("issue: %w", err)
	}
	if err := r.rotator.RotateCertificate(ctx, amp, certPEM, keyPEM); err != nil {
		return false, err
	}
	r.log.Info("amphora certificate rotated", "amphora_id", amp.ID, "expired_at", exp.UTC().Format(time.RFC3339),
		"validity", r.validity.String())
	return true, nil
}

func (r *certRotation) count(outcome string) {
	if r.counted != nil {
		r.counted(outcome)
	}
}

// lbLoader loads a load balancer's state (loadbalancer.Handler).
type lbLoader interface {
	Load(ctx context.Context, loadBalancerID string) (loadbalancer.State, error)
}

// readModelAmphorae lists the amphorae the read model shows (deleted ones
// are gone from it), with what their load balancer's events recorded at
// boot (address and agent port).
func readModelAmphorae(rm *projections.ReadModel, lbs lbLoader) amphoraLister {
	return func(ctx context.Context) ([]events.Amphora, error) {
		recs, err := rm.AmphoraRecords(ctx)
		if err != nil {
			return nil, err
		}
		states := map[string]loadbalancer.State{}
		var out []events.Amphora
		var errs []error
		for _, rec := range recs {
			if rec.LoadBalancerID == "" || rec.Status == "DELETED" {
				continue
			}
			s, ok := states[rec.LoadBalancerID]
			if !ok {
				if s, err = lbs.Load(ctx, rec.LoadBalancerID); err != nil {
					errs = append(errs, fmt.Errorf("load balancer %s: %w", rec.LoadBalancerID, err))
					continue
				}
				states[rec.LoadBalancerID] = s
			}
			if amp, ok := s.Amphorae[rec.ID]; ok && amp.LBNetworkIP != nil {
				out = append(out, amp)
			}
		}
		if len(out) == 0 && len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return out, nil
	}
}

// newCertRotation is the housekeeping's rotation over the process's
// drivers: with drivers whose amphorae have no agent certificate (noop) it
// only says so.
func newCertRotation(cfg HousekeepingConfig, d drivers, list amphoraLister, m *metrics.Metrics, log *slog.Logger) *certRotation {
	cfg = cfg.withDefaults()
	r := &certRotation{
		amphorae: list, interval: cfg.CertRotateInterval, buffer: cfg.CertExpiryBuffer,
		validity: certValidity, now: time.Now, log: log,
	}
	rot, ok := d.amphora.(amphora.CertificateRotator)
	if ok && d.serverCerts != nil {
		r.rotator, r.issuer = rot, d.serverCerts
	}
	if m != nil {
		rotations := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "octavia_es_amphora_cert_rotations_total",
			Help: "Amphora agent certificate rotations by outcome (rotated, failed).",
		}, []string{"outcome"})
		if err := m.Registry().Register(rotations); err == nil {
			r.counted = func(o string) { rotations.WithLabelValues(o).Inc() }
		}
	}
	return r
}
