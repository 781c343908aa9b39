package history

import (
	"context"
	"fmt"

	"github.com/octavia-es/octavia-es/events"
)

// VerifyStore is what Verify reads; eventstore.Store satisfies it.
type VerifyStore interface {
	ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error)
	Head(ctx context.Context) (int64, error)
}

// Problem is one inconsistency Verify found.
type Problem struct {
	Position int64  `json:"position"`
	Stream   string `json:"stream,omitempty"`
	Version  int64  `json:"version,omitempty"`
	Type     string `json:"type,omitempty"`
	Message  string `json:"problem"`
}

func (p Problem) String() string {
	if p.Stream == "" {
		return fmt.Sprintf("position %d: %s", p.Position, p.Message)
	}
	return fmt.Sprintf("position %d (%s version %d, %s): %s", p.Position, p.Stream, p.Version, p.Type, p.Message)
}

// Report is what Verify found. Problems keeps the first maxProblems;
// ProblemCount counts them all.
type Report struct {
	Events       int64     `json:"events"`
	Streams      int       `json:"streams"`
	Head         int64     `json:"head"`
	ProblemCount int       `json:"problem_count"`
	Problems     []Problem `json:"problems"`
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return r.ProblemCount == 0 }

const (
	maxProblems = 1000
	// maxUnreadable consecutive rows that cannot be read end the check:
	// the store itself is failing, not one row.
	maxUnreadable = 100
)

// Verify reads the whole store in position order and checks that positions
// are contiguous from 1 up to the head, that each stream's versions are
// contiguous from 1, and that every payload decodes (upcast to the current
// schema) with reg. It changes nothing. An error means the check could not
// run to the end (the report then holds what was found so far).
func Verify(ctx context.Context, store VerifyStore, reg *events.Registry) (Report, error) {
	v := verifier{reg: reg, versions: map[string]int64{}}
	after, unreadable := int64(0), 0
	for {
		batch, err := store.ReadAll(ctx, after, readBatch)
		if err != nil {
			if ctx.Err() != nil {
				return v.report(), ctx.Err()
			}
			// Find the row that cannot be read: one at a time.
			if batch, err = store.ReadAll(ctx, after, 1); err != nil {
				if unreadable++; unreadable > maxUnreadable {
					return v.report(), fmt.Errorf("history: verify: store unreadable after position %d: %w", after, err)
				}
				v.add(Problem{Position: after + 1, Message: fmt.Sprintf("event after position %d cannot be read: %v", after, err)})
				after++
				v.last = after
				continue
			}
		}
		unreadable = 0
		for _, env := range batch {
			v.check(env)
			after = env.Position
		}
		if len(batch) == 0 {
			break
		}
	}
	head, err := store.Head(ctx)
	if err != nil {
		return v.report(), fmt.Errorf("history: verify: head: %w", err)
	}
	v.head = head
	if head != v.last {
		v.add(Problem{Position: head, Message: fmt.Sprintf("the head is %d but the last event read is at %d", head, v.last)})
	}
	return v.report(), nil
}

type verifier struct {
	reg      *events.Registry
	versions map[string]int64
	last     int64 // last position seen
	head     int64
	events   int64
	count    int
	problems []Problem
}

func (v *verifier) check(env events.Envelope) {
	v.events++
	at := func(format string, args ...any) {
		v.add(Problem{Position: env.Position, Stream: env.Stream, Version: env.Version, Type: env.Type,
			Message: fmt.Sprintf(format, args...)})
	}
	switch want := v.last + 1; {
	case env.Position > want && want == env.Position-1:
		at("position %d is missing", want)
	case env.Position > want:
		at("positions %d to %d are missing", want, env.Position-1)
	case env.Position < want:
		at("position goes back (after %d)", v.last)
	}
	v.last = max(v.last, env.Position)

	if env.Stream == "" {
		at("no stream")
	} else {
		prev := v.versions[env.Stream]
		switch want := prev + 1; {
		case env.Version > want:
			at("stream versions %d to %d are missing", want, env.Version-1)
		case env.Version < want:
			at("stream version goes back (after %d)", prev)
		}
		v.versions[env.Stream] = max(prev, env.Version)
	}
	if env.ID == "" {
		at("no event id")
	}
	if env.Time.IsZero() {
		at("no time")
	}
	if cur := v.reg.SchemaVersion(env.Type); cur > 0 && (env.SchemaVersion < 1 || env.SchemaVersion > cur) {
		at("schema version %d, this build knows 1 to %d", env.SchemaVersion, cur)
	}
	if _, err := v.reg.Decode(env); err != nil {
		at("payload does not decode: %v", err)
	}
}

func (v *verifier) add(p Problem) {
	v.count++
	if len(v.problems) < maxProblems {
		v.problems = append(v.problems, p)
	}
}

func (v *verifier) report() Report {
	return Report{Events: v.events, Streams: len(v.versions), Head: v.head, ProblemCount: v.count, Problems: v.problems}
}
