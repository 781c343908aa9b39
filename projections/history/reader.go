// Package history reads the event store for people: a load balancer's
// events and the global feed as pages of Items, a load balancer's state as
// of a past position or time (folded with loadbalancer.Evolve, the one
// place statuses are derived), and a consistency check of the whole store.
// It writes nothing.
package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/octavia-es/octavia-es/events"
)

// Store is what history reads; eventstore.Store satisfies it.
type Store interface {
	ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error)
	ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error)
}

// ErrNotFound: the load balancer was never created (its stream holds no
// create). A deleted load balancer is found: its history stays readable.
var ErrNotFound = errors.New("history: load balancer not found")

const (
	// readBatch is how many events one ReadAll of a feed scan asks for.
	readBatch = 1000
	// defaultScanBudget bounds the events one feed page may scan: a filter
	// matching little must not read the whole store in one request. A page
	// cut short by the budget still carries a next (or previous) marker.
	defaultScanBudget = 100_000
)

// Reader reads history. It is safe for concurrent use.
type Reader struct {
	store      Store
	reg        *events.Registry
	projects   *projects
	scanBudget int
}

// NewReader returns a Reader over store, decoding with reg.
func NewReader(store Store, reg *events.Registry) *Reader {
	return &Reader{
		store: store, reg: reg, projects: newProjects(store, reg, defaultProjectCache),
		scanBudget: defaultScanBudget,
	}
}

// PageRequest asks for one page of events.
type PageRequest struct {
	Filter
	// Marker is a position: the page holds events after it (0: from the
	// first event), or before it with Reverse.
	Marker  int64
	Reverse bool
	Limit   int // at least 1
}

// Page is a page of events, oldest first. NextMarker and PrevMarker are
// the markers of the next page and of the previous one (page_reverse), 0
// when there is no such page.
type Page struct {
	Items      []Item
	NextMarker int64
	PrevMarker int64
}

// ProjectOf returns the project of a load balancer, or ErrNotFound.
func (r *Reader) ProjectOf(ctx context.Context, loadBalancerID string) (string, error) {
	p, found, err := r.projects.of(ctx, loadBalancerID)
	if err != nil {
		return "", err
	}
	if !found {
		return "", ErrNotFound
	}
	return p, nil
}

// Item renders one envelope with its load balancer's project.
func (r *Reader) Item(ctx context.Context, env events.Envelope) (Item, error) {
	r.projects.observe(env)
	project, _, err := r.projects.of(ctx, LoadBalancerOf(env))
	if err != nil {
		return Item{}, err
	}
	return NewItem(r.reg, env, project)
}

// Match reports whether env passes f, resolving its project if f needs it.
func (r *Reader) Match(ctx context.Context, f Filter, env events.Envelope) (bool, error) {
	r.projects.observe(env)
	if !f.matchEnvelope(env) {
		return false, nil
	}
	if !f.needsProject() {
		return true, nil
	}
	project, _, err := r.projects.of(ctx, LoadBalancerOf(env))
	if err != nil {
		return false, err
	}
	return project == f.ProjectID, nil
}

// LoadBalancer returns a page of one load balancer's events (its whole
// stream: listeners, pools, members, monitors and amphorae included) and
// its project; ErrNotFound when it was never created.
func (r *Reader) LoadBalancer(ctx context.Context, loadBalancerID string, req PageRequest) (Page, string, error) {
	envs, err := r.store.ReadStream(ctx, events.StreamFor(loadBalancerID), 0)
	if err != nil {
		return Page{}, "", fmt.Errorf("history: read load balancer %s: %w", loadBalancerID, err)
	}
	project, found := projectIn(r.reg, envs)
	if !found {
		return Page{}, "", ErrNotFound
	}
	r.projects.put(loadBalancerID, project)
	req.LoadBalancerID = loadBalancerID
	page, err := r.pageOf(ctx, envs, req)
	return page, project, err
}

// Feed returns a page of every event in position order. A load balancer
// filter reads that stream only.
func (r *Reader) Feed(ctx context.Context, req PageRequest) (Page, error) {
	if req.Limit < 1 {
		return Page{}, fmt.Errorf("history: limit %d, want at least 1", req.Limit)
	}
	if req.LoadBalancerID != "" {
		envs, err := r.store.ReadStream(ctx, events.StreamFor(req.LoadBalancerID), 0)
		if err != nil {
			return Page{}, fmt.Errorf("history: read load balancer %s: %w", req.LoadBalancerID, err)
		}
		return r.pageOf(ctx, envs, req)
	}
	if req.Reverse && req.Marker > 0 {
		return r.scanBackward(ctx, req)
	}
	return r.scanForward(ctx, req)
}

// pageOf pages through events already read (one stream, in order).
func (r *Reader) pageOf(ctx context.Context, envs []events.Envelope, req PageRequest) (Page, error) {
	if req.Limit < 1 {
		return Page{}, fmt.Errorf("history: limit %d, want at least 1", req.Limit)
	}
	var sel []events.Envelope
	if req.Reverse && req.Marker > 0 {
		for _, env := range envs {
			if env.Position >= req.Marker {
				break
			}
			ok, err := r.Match(ctx, req.Filter, env)
			if err != nil {
				return Page{}, err
			}
			if ok {
				sel = append(sel, env)
			}
		}
		full := len(sel) >= req.Limit
		sel = sel[max(0, len(sel)-req.Limit):]
		return r.reversePage(ctx, sel, full, 0)
	}
	for _, env := range envs {
		if env.Position <= req.Marker {
			continue
		}
		ok, err := r.Match(ctx, req.Filter, env)
		if err != nil {
			return Page{}, err
		}
		if ok {
			if sel = append(sel, env); len(sel) == req.Limit {
				break
			}
		}
	}
	return r.forwardPage(ctx, sel, req, 0)
}

// scanForward reads the store after the marker until the page is full, the
// head is reached or the scan budget is spent.
func (r *Reader) scanForward(ctx context.Context, req PageRequest) (Page, error) {
	var sel []events.Envelope
	after, scanned := req.Marker, 0
	for len(sel) < req.Limit {
		n := min(readBatch, r.scanBudget-scanned)
		if n <= 0 {
			return r.forwardPage(ctx, sel, req, after) // budget spent: continue after what was read
		}
		envs, err := r.store.ReadAll(ctx, after, n)
		if err != nil {
			return Page{}, fmt.Errorf("history: read events after %d: %w", after, err)
		}
		for _, env := range envs {
			scanned++
			after = env.Position
			ok, err := r.Match(ctx, req.Filter, env)
			if err != nil {
				return Page{}, err
			}
			if ok {
				if sel = append(sel, env); len(sel) == req.Limit {
					break
				}
			}
		}
		if len(envs) < n {
			break // the head
		}
	}
	return r.forwardPage(ctx, sel, req, 0)
}

// scanBackward reads windows of the store before the marker, newest window
// first, until the page is full, position 1 is reached or the budget is
// spent; the page keeps the events just before the marker.
func (r *Reader) scanBackward(ctx context.Context, req PageRequest) (Page, error) {
	var sel []events.Envelope
	hi, scanned := req.Marker, 0 // the window is (lo, hi)
	for len(sel) < req.Limit && hi > 1 {
		n := int(min(int64(readBatch), hi-1, int64(r.scanBudget-scanned)))
		if n <= 0 {
			return r.reversePage(ctx, sel, false, hi)
		}
		lo := hi - 1 - int64(n)
		envs, err := r.store.ReadAll(ctx, lo, n)
		if err != nil {
			return Page{}, fmt.Errorf("history: read events after %d: %w", lo, err)
		}
		scanned += n
		var window []events.Envelope
		for _, env := range envs {
			if env.Position >= hi {
				break
			}
			ok, err := r.Match(ctx, req.Filter, env)
			if err != nil {
				return Page{}, err
			}
			if ok {
				window = append(window, env)
			}
		}
		sel = append(window, sel...)
		hi = lo + 1
	}
	full := len(sel) >= req.Limit
	sel = sel[max(0, len(sel)-req.Limit):]
	return r.reversePage(ctx, sel, full, 0)
}

// forwardPage: "previous" when the request had a marker and the page is
// not empty, "next" when the page is full (as Octavia) or the scan stopped
// at budget (continuing after the last position read).
func (r *Reader) forwardPage(ctx context.Context, sel []events.Envelope, req PageRequest, budgetStop int64) (Page, error) {
	items, err := r.items(ctx, sel)
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if req.Marker > 0 && len(items) > 0 {
		p.PrevMarker = items[0].Position
	}
	switch {
	case budgetStop > 0:
		p.NextMarker = budgetStop
	case len(items) > 0 && len(items) >= req.Limit:
		p.NextMarker = items[len(items)-1].Position
	}
	return p, nil
}

// reversePage: "previous" when the page is full or the scan stopped at
// budget (before the lowest position read), "next" after its last event.
func (r *Reader) reversePage(ctx context.Context, sel []events.Envelope, full bool, budgetStop int64) (Page, error) {
	items, err := r.items(ctx, sel)
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	switch {
	case budgetStop > 0:
		p.PrevMarker = budgetStop
	case full && len(items) > 0:
		p.PrevMarker = items[0].Position
	}
	if len(items) > 0 {
		p.NextMarker = items[len(items)-1].Position
	}
	return p, nil
}

func (r *Reader) items(ctx context.Context, sel []events.Envelope) ([]Item, error) {
	items := make([]Item, 0, len(sel))
	for _, env := range sel {
		it, err := r.Item(ctx, env)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}
