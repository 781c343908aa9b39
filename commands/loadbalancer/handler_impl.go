package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// maxAttempts bounds the optimistic-concurrency retries of one Execute.
const maxAttempts = 10

// Handler executes commands against the event store: load the stream,
// Decide, append with the expected version. It holds no state of its own
// and is safe for concurrent use.
type Handler struct {
	store eventstore.Store
	reg   *events.Registry
	log   *slog.Logger
}

var _ Executor = (*Handler)(nil)

// NewHandler returns a Handler over store; reg encodes and decodes the
// payloads. A nil log discards.
func NewHandler(store eventstore.Store, reg *events.Registry, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{store: store, reg: reg, log: log}
}

// Load folds the load balancer's stream into its state. A stream that does
// not exist gives the empty state of that id (Exists false).
func (h *Handler) Load(ctx context.Context, loadBalancerID string) (State, error) {
	envs, err := h.store.ReadStream(ctx, events.StreamFor(loadBalancerID), 0)
	if err != nil {
		return State{}, fmt.Errorf("load loadbalancer %s: %w", loadBalancerID, err)
	}
	s := NewStateFor(loadBalancerID)
	return h.fold(s, envs)
}

func (h *Handler) fold(s State, envs []events.Envelope) (State, error) {
	for _, env := range envs {
		e, err := h.reg.Decode(env)
		if err != nil {
			return State{}, fmt.Errorf("fold %s version %d: %w", env.Stream, env.Version, err)
		}
		s = Evolve(s, env.Version, env.Time, e)
	}
	return s, nil
}

// Execute loads, decides and appends. A refusal is returned as the *Error
// from Decide. A command that changes nothing (a repeated saga outcome)
// returns the current state, no events and Position 0. A lost race
// (eventstore.ErrConcurrency) reloads and decides again on the new state,
// so a change that locked the load balancer meanwhile yields a 409.
func (h *Handler) Execute(ctx context.Context, loadBalancerID string, cmd Command, md events.Metadata) (Result, error) {
	stream := events.StreamFor(loadBalancerID)
	for attempt := 1; ; attempt++ {
		s, err := h.Load(ctx, loadBalancerID)
		if err != nil {
			return Result{}, err
		}
		evs, err := Decide(s, cmd)
		if err != nil {
			return Result{State: s}, err
		}
		if len(evs) == 0 {
			return Result{State: s}, nil
		}
		envs := make([]events.Envelope, len(evs))
		for i, e := range evs {
			if envs[i], err = h.reg.Encode(stream, e, md); err != nil {
				return Result{State: s}, fmt.Errorf("execute %s on %s: %w", commandName(cmd), loadBalancerID, err)
			}
		}
		expected := s.Version
		if _, create := deref(cmd).(CreateLoadBalancer); create {
			expected = eventstore.ExpectNoStream
		}
		stored, err := h.store.Append(ctx, stream, expected, envs)
		if errors.Is(err, eventstore.ErrConcurrency) {
			if attempt >= maxAttempts {
				return Result{State: s}, fmt.Errorf("execute %s on %s: gave up after %d attempts: %w",
					commandName(cmd), loadBalancerID, attempt, err)
			}
			h.log.DebugContext(ctx, "lost append race, retrying",
				"loadbalancer_id", loadBalancerID, "command", commandName(cmd), "attempt", attempt)
			if err := backoff(ctx, attempt); err != nil {
				return Result{State: s}, err
			}
			continue
		}
		if err != nil {
			return Result{State: s}, fmt.Errorf("execute %s on %s: append: %w", commandName(cmd), loadBalancerID, err)
		}
		if s, err = h.fold(s, stored); err != nil {
			return Result{}, err
		}
		res := Result{State: s, Events: stored}
		if len(stored) > 0 {
			res.Position = stored[len(stored)-1].Position
		}
		return res, nil
	}
}

// backoff sleeps a little (growing with the attempt, jittered so racing
// writers spread out) or returns when ctx ends.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(attempt)*time.Millisecond + rand.N(2*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func commandName(cmd Command) string {
	if c := deref(cmd); c != nil {
		return c.commandName()
	}
	return "<nil>"
}
