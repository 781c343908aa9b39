package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOctavia is the smallest in-process stand-in for the v2 API the load
// generator drives: load balancers turn ACTIVE (or ERROR) a fixed time after
// their POST; the list honours limit, marker, provisioning_status.
type fakeOctavia struct {
	activeAfter time.Duration
	failEvery   int // every failEvery-th create ends in ERROR (0 = never)

	mu    sync.Mutex
	lbs   []*fakeLB
	byID  map[string]*fakeLB
	posts int
}

type fakeLB struct {
	id      string
	name    string
	created time.Time
	fail    bool
}

func (f *fakeOctavia) status(lb *fakeLB) string {
	switch {
	case time.Since(lb.created) < f.activeAfter:
		return "PENDING_CREATE"
	case lb.fail:
		return "ERROR"
	default:
		return "ACTIVE"
	}
}

func (f *fakeOctavia) render(lb *fakeLB) map[string]any { return f.renderAs(lb, f.status(lb)) }

// renderAs renders lb in status (the list filters on the status it renders:
// the clock must not move a load balancer between the two).
func (f *fakeOctavia) renderAs(lb *fakeLB, status string) map[string]any {
	return map[string]any{"id": lb.id, "name": lb.name, "provisioning_status": status, "operating_status": "OFFLINE",
		"vip_address": "10.0.0." + strings.TrimLeft(strings.TrimPrefix(lb.id, "lb-"), "0")}
}

func (f *fakeOctavia) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const coll = "/v2/lbaas/loadbalancers"
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		_, _ = w.Write([]byte(`{"versions":[{"id":"v2.0","status":"SUPPORTED"}]}`))
	case r.URL.Path == coll && r.Method == http.MethodPost:
		if r.Header.Get("X-Project-Id") == "" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var body struct {
			LoadBalancer struct {
				Name        string `json:"name"`
				VipSubnetID string `json:"vip_subnet_id"`
			} `json:"loadbalancer"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.LoadBalancer.VipSubnetID == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.posts++
		lb := &fakeLB{id: fmt.Sprintf("lb-%06d", f.posts), name: body.LoadBalancer.Name, created: time.Now(),
			fail: f.failEvery > 0 && f.posts%f.failEvery == 0}
		f.lbs = append(f.lbs, lb)
		f.byID[lb.id] = lb
		out := f.render(lb)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"loadbalancer": out})
	case r.URL.Path == coll && r.Method == http.MethodGet:
		f.list(w, r)
	case strings.HasPrefix(r.URL.Path, coll+"/") && r.Method == http.MethodGet:
		f.mu.Lock()
		lb, ok := f.byID[strings.TrimPrefix(r.URL.Path, coll+"/")]
		var out map[string]any
		if ok {
			out = f.render(lb)
		}
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"loadbalancer": out})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeOctavia) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		limit = min(n, 1000)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	page := []map[string]any{}
	passed := q.Get("marker") == ""
	for _, lb := range f.lbs {
		if !passed {
			passed = lb.id == q.Get("marker")
			continue
		}
		st := f.status(lb)
		if want := q.Get("provisioning_status"); want != "" && st != want {
			continue
		}
		if len(page) == limit {
			break
		}
		page = append(page, f.renderAs(lb, st))
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"loadbalancers": page, "loadbalancers_links": []any{}})
}

func newFake(t *testing.T, activeAfter time.Duration, failEvery int) (*fakeOctavia, *Client) {
	t.Helper()
	f := &fakeOctavia{activeAfter: activeAfter, failEvery: failEvery, byID: map[string]*fakeLB{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL, "bench", fallbackSubnet, 4)
	t.Cleanup(c.Close)
	return f, c
}
