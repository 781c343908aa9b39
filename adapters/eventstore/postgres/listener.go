package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// listener holds one connection LISTENing on the store's channel for every
// subscriber of the process, and turns each notification into a broadcast.
// It starts with the first Subscribe and reconnects until the store closes;
// while it is down, subscribers still poll.
type listener struct {
	cfg     *pgx.ConnConfig
	channel string
	wake    *broadcast
	log     *slog.Logger

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

func newListener(cfg *pgx.ConnConfig, channel string, wake *broadcast, log *slog.Logger) *listener {
	return &listener{cfg: cfg.Copy(), channel: channel, wake: wake, log: log}
}

// start runs the listener once; later calls and calls after stop do nothing.
func (l *listener) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.stopped {
		return
	}
	l.started = true
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go l.run(ctx)
}

// stop ends the listener and waits for its connection to close.
func (l *listener) stop() {
	l.mu.Lock()
	l.stopped = true
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Reconnect delays: doubling from the first to the last while the server
// stays unreachable, back to the first once a connection listened.
const (
	listenRetryMin = time.Second
	listenRetryMax = 30 * time.Second
)

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	delay := listenRetryMin
	for {
		listened, err := l.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = listenRetryMin
		}
		l.log.WarnContext(ctx, "eventstore/postgres: listener connection lost; subscribers poll until it is back",
			"channel", l.channel, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, listenRetryMax)
	}
}

// listenOnce connects, LISTENs and relays notifications until the
// connection fails or ctx ends. listened tells whether LISTEN took effect.
func (l *listener) listenOnce(ctx context.Context) (listened bool, _ error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// Appends that committed before LISTEN took effect sent notifications
	// nobody got: wake everyone to re-read once.
	l.wake.notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, fmt.Errorf("wait: %w", err)
		}
		l.wake.notify()
	}
}
