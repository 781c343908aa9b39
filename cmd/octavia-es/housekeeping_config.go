package main

import (
	"errors"
	"time"
)

// HousekeepingConfig is Octavia's [house_keeping] as far as octavia-es
// needs it: the amphora agents' certificate rotation. There is nothing to
// purge: the read models drop deleted objects at once and the events are
// the audit trail (docs/deploy.md). Zero durations take the defaults.
type HousekeepingConfig struct {
	// CertRotateInterval: how often agents' certificates are checked
	// (Octavia's cert_interval); 0 = 1h.
	CertRotateInterval time.Duration `yaml:"cert_rotate_interval"`
	// CertExpiryBuffer: a certificate expiring within it is replaced
	// (Octavia's cert_expiry_buffer); 0 = 2 weeks.
	CertExpiryBuffer time.Duration `yaml:"cert_expiry_buffer"`
}

func (h HousekeepingConfig) withDefaults() HousekeepingConfig {
	if h.CertRotateInterval == 0 {
		h.CertRotateInterval = defaultCertRotateInterval
	}
	if h.CertExpiryBuffer == 0 {
		h.CertExpiryBuffer = defaultCertExpiryBuffer
	}
	return h
}

func (h HousekeepingConfig) validate() []error {
	var errs []error
	if h.CertRotateInterval < 0 {
		errs = append(errs, errors.New("housekeeping.cert_rotate_interval must not be negative"))
	}
	if h.CertExpiryBuffer < 0 {
		errs = append(errs, errors.New("housekeeping.cert_expiry_buffer must not be negative"))
	}
	return errs
}
