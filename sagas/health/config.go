package health

import (
	"errors"
	"time"
)

// Config tunes the health manager. Zero fields take the defaults.
type Config struct {
	// HeartbeatTimeout: an amphora silent for longer is failed over
	// (Octavia's [health_manager] heartbeat_timeout). Default 3 s.
	HeartbeatTimeout time.Duration
	// CheckInterval: how often stale amphorae are looked for (Octavia's
	// health_check_interval). Default 500 ms, so a dead amphora is acted on
	// within HeartbeatTimeout + CheckInterval.
	CheckInterval time.Duration
	// FailoverThreshold: when this many amphorae are stale at once, none
	// is failed over (Octavia's failover_threshold: a controller-side
	// network problem, not dead amphorae). 0 = no threshold.
	FailoverThreshold int
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 3 * time.Second
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = 500 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.HeartbeatTimeout < 0 {
		errs = append(errs, errors.New("health: heartbeat timeout must not be negative"))
	}
	if c.CheckInterval < 0 {
		errs = append(errs, errors.New("health: check interval must not be negative"))
	}
	if c.FailoverThreshold < 0 {
		errs = append(errs, errors.New("health: failover threshold must not be negative"))
	}
	return errors.Join(errs...)
}
