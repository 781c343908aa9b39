// Package noopkit is what the noop drivers share: a Recorder that logs every
// call, can be told to fail an operation (tests, and e2e through config) and
// can delay every call (so a test can stop a process with a saga in flight).
package noopkit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrInjected is the error of an operation made to fail by configuration.
var ErrInjected = errors.New("noop: injected failure")

// Call is one recorded driver call.
type Call struct {
	Op   string // "<capability>.<operation>", e.g. "compute.create_amphora"
	Args string // a short summary of the arguments
}

// Config is the part of a noop driver's configuration the Recorder reads.
type Config struct {
	// Delay is added to every call (interrupted by the call's context).
	Delay time.Duration `yaml:"delay"`
	// FailOn lists operations that fail with ErrInjected, by full name
	// ("compute.create_amphora"). Names of other capabilities are ignored,
	// so one list can be given to every noop driver.
	FailOn []string `yaml:"fail_on"`
}

type failure struct {
	err       error
	remaining int // < 0: every call
}

// Recorder records calls and injects faults. Safe for concurrent use.
type Recorder struct {
	capability string
	ops        map[string]bool

	mu       sync.Mutex
	calls    []Call
	failures map[string]failure
	delay    time.Duration
}

// New returns a Recorder for capability (the prefix of its operation names)
// with its known operations. A FailOn entry of this capability naming an
// unknown operation is an error: a typo must not silently disable a test.
func New(capability string, ops []string, cfg Config) (*Recorder, error) {
	r := &Recorder{
		capability: capability,
		ops:        map[string]bool{},
		failures:   map[string]failure{},
		delay:      cfg.Delay,
	}
	for _, op := range ops {
		r.ops[capability+"."+op] = true
	}
	if cfg.Delay < 0 {
		return nil, fmt.Errorf("noop %s: negative delay %s", capability, cfg.Delay)
	}
	for _, name := range cfg.FailOn {
		if !strings.HasPrefix(name, capability+".") {
			continue
		}
		if !r.ops[name] {
			return nil, fmt.Errorf("noop %s: fail_on: unknown operation %q", capability, name)
		}
		r.failures[name] = failure{err: ErrInjected, remaining: -1}
	}
	return r, nil
}

// Do records a call of op, waits the configured delay and returns the
// injected failure, if any. A done context fails the call, as a real driver's
// I/O would.
func (r *Recorder) Do(ctx context.Context, op, args string) error {
	name := r.capability + "." + op
	r.mu.Lock()
	r.calls = append(r.calls, Call{Op: name, Args: args})
	delay := r.delay
	var err error
	if f, ok := r.failures[name]; ok {
		err = f.err
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				delete(r.failures, name)
			} else {
				r.failures[name] = f
			}
		}
	}
	r.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", name, ctx.Err())
		case <-t.C:
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Calls returns a copy of every call recorded so far, oldest first.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Count is the number of calls of op (full name) recorded so far.
func (r *Recorder) Count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.Op == op {
			n++
		}
	}
	return n
}

// FailOn makes every later call of op (full name) fail with err
// (ErrInjected when nil).
func (r *Recorder) FailOn(op string, err error) { r.fail(op, err, -1) }

// FailNext makes the next n calls of op fail with err (ErrInjected when
// nil), then succeed again: a transient fault.
func (r *Recorder) FailNext(op string, n int, err error) {
	if n > 0 {
		r.fail(op, err, n)
	}
}

func (r *Recorder) fail(op string, err error, n int) {
	if err == nil {
		err = ErrInjected
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures[op] = failure{err: err, remaining: n}
}

// ClearFailures removes every injected failure.
func (r *Recorder) ClearFailures() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = map[string]failure{}
}

// SetDelay changes the delay added to every later call.
func (r *Recorder) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}
