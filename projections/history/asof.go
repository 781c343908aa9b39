package history

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// At is a point in history: a global position, or a time (exactly one is
// set).
type At struct {
	Position int64
	Time     time.Time
}

// ErrInvalidAt: the as_of value is neither a position nor a time.
var ErrInvalidAt = errors.New("history: expected a position (a positive integer) or an RFC 3339 time")

// ParseAt reads a position ("42") or a time: RFC 3339 ("2026-01-02T03:04:05.123456Z",
// any offset) or Octavia's own timestamp format without a zone
// ("2026-01-02T03:04:05", UTC), so a created_at or updated_at pasted from a
// response works.
func ParseAt(s string) (At, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return At{}, ErrInvalidAt
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 1 {
			return At{}, ErrInvalidAt
		}
		return At{Position: n}, nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return At{}, ErrInvalidAt
	}
	return At{Time: t}, nil
}

// ParseTime reads an RFC 3339 time, or one without a zone taken as UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: expected RFC 3339", s)
	}
	return t, nil
}

// includes reports whether env happened at or before a.
func (a At) includes(env events.Envelope) bool {
	if a.Position > 0 {
		return env.Position <= a.Position
	}
	return !truncate(env.Time).After(truncate(a.Time))
}

// StateAt folds a load balancer's stream up to at (the events at or before
// it, stopping at the first one after it) with loadbalancer.Evolve, exactly
// as the command handler and the projector fold it, and returns the state
// and the load balancer's project. ErrNotFound when it was never created;
// the caller decides what a state that does not exist yet, or is already
// gone, answers (s.Alive()).
func (r *Reader) StateAt(ctx context.Context, loadBalancerID string, at At) (loadbalancer.State, string, error) {
	envs, err := r.store.ReadStream(ctx, events.StreamFor(loadBalancerID), 0)
	if err != nil {
		return loadbalancer.State{}, "", fmt.Errorf("history: read load balancer %s: %w", loadBalancerID, err)
	}
	project, found := projectIn(r.reg, envs)
	if !found {
		return loadbalancer.State{}, "", ErrNotFound
	}
	s := loadbalancer.NewStateFor(loadBalancerID)
	for _, env := range envs {
		if !at.includes(env) {
			break
		}
		ev, err := r.reg.Decode(env)
		if err != nil {
			return loadbalancer.State{}, "", fmt.Errorf("history: fold %s version %d: %w", env.Stream, env.Version, err)
		}
		s = loadbalancer.Evolve(s, env.Version, env.Time, ev)
	}
	return s, project, nil
}
