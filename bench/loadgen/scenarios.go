package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// pollEvery is how often create→ACTIVE polls the load balancer: tight, so
// the figure is within about a millisecond (plus one GET) of the moment the
// API first shows ACTIVE, yet not a busy loop stealing a core from the server.
const pollEvery = time.Millisecond

// activeTimeout bounds the wait for one load balancer to become ACTIVE.
const activeTimeout = 15 * time.Second

// CreateToActive posts a load balancer and polls it until it is ACTIVE. The
// latency runs from just before the POST to the arrival of the first GET
// response that shows ACTIVE: what a client waiting for its load balancer sees.
func CreateToActive(c *Client, prefix string) Op {
	return func(ctx context.Context, i int) (time.Duration, error) {
		start := time.Now()
		id, err := c.CreateLB(ctx, fmt.Sprintf("%s-%d", prefix, i))
		if err != nil {
			return 0, err
		}
		ctx, cancel := context.WithTimeout(ctx, activeTimeout)
		defer cancel()
		for {
			polled := time.Now()
			status, err := c.LBStatus(ctx, id)
			if err != nil {
				return 0, err
			}
			switch status {
			case "ACTIVE":
				return time.Since(start), nil
			case "ERROR":
				return 0, fmt.Errorf("load balancer %s went to ERROR", id)
			}
			wait := pollEvery - time.Since(polled)
			if wait > 0 {
				select {
				case <-ctx.Done():
					return 0, fmt.Errorf("load balancer %s not ACTIVE after %s (last %s): %w", id, activeTimeout, status, ctx.Err())
				case <-time.After(wait):
				}
			}
		}
	}
}

// MassCreate is the outcome of creating many load balancers concurrently.
type MassCreate struct {
	Workers        int     `json:"workers"`
	Requested      int     `json:"requested"`
	Accepted       int     `json:"accepted"`
	Post           Summary `json:"post"` // POST latencies; ReqPerSec = creates accepted per second
	AllActive      bool    `json:"all_active"`
	AllActiveSec   float64 `json:"all_active_s"`   // from the first POST to every one ACTIVE
	ActivePerSec   float64 `json:"active_per_s"`   // Accepted / AllActiveSec
	TotalLBs       int     `json:"total_lbs"`      // load balancers in the store afterwards
	Errored        int     `json:"errored"`        // in ERROR afterwards
	StillPending   int     `json:"still_pending"`  // in PENDING_CREATE when the wait gave up
	ActiveWaitNote string  `json:"note,omitempty"` // why the wait stopped, if not all ACTIVE
}

// CreateMany creates n load balancers from workers goroutines (bounded by
// b.Budget), then waits until every load balancer in the store is ACTIVE
// (bounded by activeBudget). existing is how many were there before.
func CreateMany(ctx context.Context, c *Client, workers, n, existing int, budget, activeBudget time.Duration, prefix string) MassCreate {
	out := MassCreate{Workers: workers, Requested: n}
	start := time.Now()
	s := Run(ctx, workers, Bound{N: n, Budget: budget}, Timed(func(ctx context.Context, i int) error {
		_, err := c.CreateLB(ctx, fmt.Sprintf("%s-%d", prefix, i))
		return err
	}))
	out.Post = Summarize(s)
	out.Accepted = len(s.Latencies)
	out.TotalLBs = existing + out.Accepted

	// Cheap poll first (the pending ones are few), then one full count of
	// ACTIVE to confirm: the figure is "all ACTIVE", observed, not inferred.
	deadline := time.Now().Add(activeBudget)
	for {
		pending, err := c.CountStatus(ctx, "PENDING_CREATE", 1000)
		if err != nil {
			out.ActiveWaitNote = err.Error()
			break
		}
		if pending == 0 {
			active, err := c.CountStatus(ctx, "ACTIVE", 1000)
			if err != nil {
				out.ActiveWaitNote = err.Error()
				break
			}
			if active >= out.TotalLBs {
				out.AllActive = true
				out.AllActiveSec = time.Since(start).Seconds()
				if out.AllActiveSec > 0 {
					out.ActivePerSec = float64(out.Accepted) / out.AllActiveSec
				}
				break
			}
		}
		out.StillPending = pending
		if time.Now().After(deadline) || ctx.Err() != nil {
			out.ActiveWaitNote = fmt.Sprintf("gave up after %s with %d PENDING_CREATE", activeBudget, pending)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, err := c.CountStatus(ctx, "ERROR", 1000); err == nil {
		out.Errored = n
	}
	return out
}

// ListVariant is one list query measured at one store size.
type ListVariant struct {
	Name  string
	Query url.Values
}

// ListVariants are the list queries of the issue: limit=1000 (the API's
// maximum), the default page size, and limit=100 (the size real Octavia's
// reference figure was taken at).
func ListVariants() []ListVariant {
	return []ListVariant{
		{Name: "limit=1000", Query: url.Values{"limit": {"1000"}}},
		{Name: "default page", Query: nil},
		{Name: "limit=100", Query: url.Values{"limit": {"100"}}},
	}
}

// ListOnce checks a list query returns what it should before it is timed, so
// a fast empty answer can't pass for a fast list. It returns the page size.
func ListOnce(ctx context.Context, c *Client, q url.Values) (int, error) {
	b, err := c.ListRaw(ctx, q)
	if err != nil {
		return 0, err
	}
	n, _, err := ListCount(b, "")
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errors.New("list returned no load balancers")
	}
	return n, nil
}

// ListOp is one GET of the list with q.
func ListOp(c *Client, q url.Values) Op {
	return Timed(func(ctx context.Context, _ int) error {
		_, err := c.ListRaw(ctx, q)
		return err
	})
}

// RootOp is one GET /.
func RootOp(c *Client) Op {
	return Timed(func(ctx context.Context, _ int) error { return c.Root(ctx) })
}

func itoa(n int) string { return strconv.Itoa(n) }
