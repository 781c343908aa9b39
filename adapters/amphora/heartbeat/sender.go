package heartbeat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// SenderConfig configures a Sender (Octavia's [health_manager]
// controller_ip_port_list, heartbeat_interval and heartbeat_key).
type SenderConfig struct {
	AmphoraID string
	Targets   []string // host:port of every health manager
	Interval  time.Duration
	Key       []byte
}

// BuildFunc returns the listeners and pools of the next heartbeat; the
// Sender fills in the id, sequence, version and boot id.
type BuildFunc func(ctx context.Context) (Message, error)

// Sender is the amphora side: every Interval it builds a message, signs it
// and sends it to every target. Unlike Octavia's agent (one target per
// interval, round robin) it sends to all of them, so any health manager
// sees every heartbeat. Update changes targets, interval and key while it
// runs, keeping its boot id and sequence (receivers see one run).
type Sender struct {
	amphoraID string
	build     BuildFunc
	log       *slog.Logger
	bootID    string
	lastSeq   uint64 // Run's goroutine only

	mu       sync.Mutex
	cfg      SenderConfig
	targets  []netip.AddrPort
	reconfig chan struct{} // a pending Update, for Run
}

// NewSender resolves the targets and returns a sender. Without targets it
// sends nothing until an Update gives it some.
func NewSender(cfg SenderConfig, build BuildFunc, log *slog.Logger) (*Sender, error) {
	if cfg.AmphoraID == "" {
		return nil, errors.New("heartbeat: sender without an amphora id")
	}
	targets, err := checkSenderConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Sender{
		amphoraID: cfg.AmphoraID, build: build, log: log, bootID: newBootID(),
		cfg: cfg, targets: targets, reconfig: make(chan struct{}, 1),
	}, nil
}

// CheckSenderConfig reports what Update would refuse in cfg (its
// AmphoraID aside), without changing anything.
func CheckSenderConfig(cfg SenderConfig) error {
	_, err := checkSenderConfig(cfg)
	return err
}

func checkSenderConfig(cfg SenderConfig) ([]netip.AddrPort, error) {
	if len(cfg.Targets) > 0 && len(cfg.Key) == 0 {
		return nil, errors.New("heartbeat: empty HMAC key")
	}
	if cfg.Interval <= 0 {
		return nil, fmt.Errorf("heartbeat: interval %v must be positive", cfg.Interval)
	}
	targets := make([]netip.AddrPort, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		ua, err := net.ResolveUDPAddr("udp", t)
		if err != nil {
			return nil, fmt.Errorf("heartbeat: target %q: %w", t, err)
		}
		targets = append(targets, ua.AddrPort())
	}
	return targets, nil
}

// Update replaces the targets, interval and key; cfg.AmphoraID, if set,
// must be the sender's. A running sender sends with the new settings at
// once and then every new interval. An invalid cfg changes nothing.
func (s *Sender) Update(cfg SenderConfig) error {
	if cfg.AmphoraID != "" && cfg.AmphoraID != s.amphoraID {
		return fmt.Errorf("heartbeat: sender of amphora %s cannot send as %s", s.amphoraID, cfg.AmphoraID)
	}
	cfg.AmphoraID = s.amphoraID
	targets, err := checkSenderConfig(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg, s.targets = cfg, targets
	s.mu.Unlock()
	select {
	case s.reconfig <- struct{}{}:
	default: // one already pending: Run reads the latest settings
	}
	return nil
}

func (s *Sender) settings() (SenderConfig, []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.targets
}

func newBootID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Run sends a heartbeat at once and then every Interval until ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	conn, err := net.ListenUDP("udp", nil)
	if err != nil {
		return fmt.Errorf("heartbeat: sender socket: %w", err)
	}
	defer conn.Close()
	cfg, _ := s.settings()
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		s.sendOnce(ctx, conn, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.reconfig:
			cfg, _ := s.settings()
			t.Reset(cfg.Interval)
		}
	}
}

func (s *Sender) sendOnce(ctx context.Context, conn *net.UDPConn, now time.Time) {
	cfg, targets := s.settings()
	if len(targets) == 0 {
		return // nowhere to send: don't read the stats for nothing
	}
	m, err := s.build(ctx)
	if err != nil {
		// As Octavia's health daemon: skip this beat, the next may succeed.
		s.log.Warn("heartbeat skipped", "err", err)
		return
	}
	m.AmphoraID, m.Version, m.BootID = s.amphoraID, Version, s.bootID
	m.Seq = s.nextSeq(now)
	b, err := Encode(m, cfg.Key)
	if err != nil {
		s.log.Error("heartbeat not encoded", "err", err)
		return
	}
	for _, t := range targets {
		if _, err := conn.WriteToUDPAddrPort(b, t); err != nil {
			// Expected while the network comes up; failover covers the rest.
			s.log.Debug("heartbeat not sent", "target", t, "err", err)
		}
	}
}

// nextSeq is the current Unix time in microseconds, or one more than the
// previous sequence if the clock did not advance (or went back): strictly
// increasing within a run, and greater than a previous run's unless the
// wall clock stepped back (the boot id covers that case).
func (s *Sender) nextSeq(now time.Time) uint64 {
	seq := uint64(max(now.UnixMicro(), 0))
	if seq <= s.lastSeq {
		seq = s.lastSeq + 1
	}
	s.lastSeq = seq
	return seq
}
