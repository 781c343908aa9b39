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
// sees every heartbeat.
type Sender struct {
	cfg     SenderConfig
	build   BuildFunc
	log     *slog.Logger
	targets []netip.AddrPort
	bootID  string
	lastSeq uint64
}

// NewSender resolves the targets and returns a sender.
func NewSender(cfg SenderConfig, build BuildFunc, log *slog.Logger) (*Sender, error) {
	if cfg.AmphoraID == "" {
		return nil, errors.New("heartbeat: sender without an amphora id")
	}
	if len(cfg.Key) == 0 {
		return nil, errors.New("heartbeat: empty HMAC key")
	}
	if cfg.Interval <= 0 {
		return nil, fmt.Errorf("heartbeat: interval %v must be positive", cfg.Interval)
	}
	s := &Sender{cfg: cfg, build: build, log: log, bootID: newBootID()}
	for _, t := range cfg.Targets {
		ua, err := net.ResolveUDPAddr("udp", t)
		if err != nil {
			return nil, fmt.Errorf("heartbeat: target %q: %w", t, err)
		}
		s.targets = append(s.targets, ua.AddrPort())
	}
	return s, nil
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
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.sendOnce(ctx, conn, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Sender) sendOnce(ctx context.Context, conn *net.UDPConn, now time.Time) {
	m, err := s.build(ctx)
	if err != nil {
		// As Octavia's health daemon: skip this beat, the next may succeed.
		s.log.Warn("heartbeat skipped", "err", err)
		return
	}
	m.AmphoraID, m.Version, m.BootID = s.cfg.AmphoraID, Version, s.bootID
	m.Seq = s.nextSeq(now)
	b, err := Encode(m, s.cfg.Key)
	if err != nil {
		s.log.Error("heartbeat not encoded", "err", err)
		return
	}
	for _, t := range s.targets {
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
