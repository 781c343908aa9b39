package v2_test

import (
	"net/http"
	"reflect"
	"strconv"
	"testing"

	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history"
)

// TestAsOfEveryWrite: GET ?as_of= at every write of a random history, by
// position and by time, answers the state the aggregate returned right
// after that write (404 once deleted); as of the head it answers exactly
// what the live GET answers.
func TestAsOfEveryWrite(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	writes := e.workload(42, 4, 160)
	timeOf := map[int64]string{}
	for _, env := range e.all() {
		timeOf[env.Position] = history.FormatTime(env.Time)
	}
	gone := 0
	for i, w := range writes {
		base := "/v2/lbaas/loadbalancers/" + w.LoadBalancerID
		for _, at := range []string{strconv.FormatInt(w.Position, 10), timeOf[w.Position]} {
			if !w.State.Alive() {
				gone++
				e.getJSON(base+"?as_of="+at, admin(), http.StatusNotFound)
				e.getJSON(base+"/status?as_of="+at, admin(), http.StatusNotFound)
				continue
			}
			got := e.getJSON(base+"?as_of="+at, admin(), http.StatusOK)
			want := roundTrip(t, map[string]any{"loadbalancer": projections.RenderLoadBalancer(w.State)})
			if !reflect.DeepEqual(any(got), want) {
				t.Fatalf("write %d (%s) as of %s:\n got %v\nwant %v", i, w.Command, at, got, want)
			}
			got = e.getJSON(base+"/status?as_of="+at, admin(), http.StatusOK)
			want = roundTrip(t, map[string]any{"statuses": projections.RenderStatusTree(w.State)})
			if !reflect.DeepEqual(any(got), want) {
				t.Fatalf("write %d (%s) status as of %s:\n got %v\nwant %v", i, w.Command, at, got, want)
			}
		}
		// Just before the write's first event, the state is the previous
		// write's of that load balancer (or none).
		if w.Command == "loadbalancer.CreateLoadBalancer" && w.First > 1 {
			e.getJSON(base+"?as_of="+strconv.FormatInt(w.First-1, 10), admin(), http.StatusNotFound)
		}
	}
	if gone == 0 {
		t.Fatal("no load balancer was deleted: the 404 after deletion is untested")
	}

	// As of the head, byte for byte the live GET (the read model).
	head := strconv.FormatInt(writes[len(writes)-1].Position, 10)
	alive := 0
	for _, w := range lastWrites(writes) {
		base := "/v2/lbaas/loadbalancers/" + w.LoadBalancerID
		for _, path := range []string{base, base + "/status"} {
			live, past := e.get(path, admin()), e.get(path+"?as_of="+head, admin())
			if live.Code != past.Code || live.Body.String() != past.Body.String() {
				t.Fatalf("%s live %d %s\nas of head %d %s", path, live.Code, live.Body, past.Code, past.Body)
			}
		}
		if w.State.Alive() {
			alive++
		}
	}
	if alive == 0 {
		t.Fatal("no live load balancer left to compare")
	}
}

// lastWrites is the last write of each load balancer.
func lastWrites(writes []historyWrite) map[string]historyWrite {
	out := map[string]historyWrite{}
	for _, w := range writes {
		out[w.LoadBalancerID] = w
	}
	return out
}

func TestAsOfRefusals(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	writes := e.workload(9, 4, 40)
	var p1, p2 string
	for _, w := range writes {
		switch w.State.LoadBalancer.Spec.ProjectID {
		case "p1":
			p1 = w.LoadBalancerID
		case "p2":
			p2 = w.LoadBalancerID
		}
	}
	if p1 == "" || p2 == "" {
		t.Fatal("the workload needs a load balancer in each project")
	}
	head := strconv.FormatInt(writes[len(writes)-1].Position, 10)
	lb := "/v2/lbaas/loadbalancers/" + p1
	cases := []struct {
		path   string
		who    []string
		status int
		fault  string
	}{
		{lb + "?as_of=yesterday", admin(), 400, "Invalid input for field/attribute as_of. Value: 'yesterday'. Expected a position (a positive integer) or an RFC 3339 time."},
		{lb + "?as_of=0", admin(), 400, "Invalid input for field/attribute as_of. Value: '0'. Expected a position (a positive integer) or an RFC 3339 time."},
		{lb + "?as_of=", admin(), 400, "Invalid input for field/attribute as_of. Value: ''. Expected a position (a positive integer) or an RFC 3339 time."},
		{lb + "/status?as_of=1&fields=id", admin(), 400, `Unknown argument: "fields"`},
		{lb + "?as_of=" + head + "&bogus=1", admin(), 400, `Unknown argument: "bogus"`},
		{"/v2/lbaas/loadbalancers/" + unknownID + "?as_of=" + head, admin(), 404, "Load Balancer " + unknownID + " not found."},
		{"/v2/lbaas/loadbalancers/" + p2 + "?as_of=" + head, tenant("p1"), 403, "Policy does not allow this request to be performed."},
		{"/v2/lbaas/loadbalancers/" + p2 + "/status?as_of=" + head, tenant("p1"), 403, "Policy does not allow this request to be performed."},
		{"/v2/lbaas/loadbalancers/" + p2 + "?as_of=2000-01-01T00:00:00Z", admin(), 404, "Load Balancer " + p2 + " not found."},
	}
	for _, tc := range cases {
		m := e.getJSON(tc.path, tc.who, tc.status)
		if m["faultstring"] != tc.fault {
			t.Errorf("GET %s: %v, want %q", tc.path, m, tc.fault)
		}
	}
	// A tenant reads its own project's past; fields apply.
	m := e.getJSON(lb+"?as_of="+head+"&fields=id&fields=project_id", tenant("p1"), 200)
	if got := m["loadbalancer"]; !reflect.DeepEqual(got, map[string]any{"id": p1, "project_id": "p1"}) {
		t.Errorf("fields: %v", m)
	}
}
