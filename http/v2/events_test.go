package v2_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/events"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections/history"
)

// eventPositions pages through an event list by its next links and
// returns the positions read, checking each page's size.
func (e *histEnv) eventPositions(path string, who []string, limit int) []int64 {
	e.t.Helper()
	got := []int64{}
	for range 1000 {
		m := e.getJSON(path, who, http.StatusOK)
		items := m["events"].([]any)
		if len(items) > limit {
			e.t.Fatalf("%s: %d items, limit %d", path, len(items), limit)
		}
		for _, it := range items {
			got = append(got, int64(it.(map[string]any)["position"].(float64)))
		}
		next := ""
		for _, l := range m["events_links"].([]any) {
			if l := l.(map[string]any); l["rel"] == "next" {
				next = l["href"].(string)
			}
		}
		if next == "" {
			return got
		}
		u, err := url.Parse(next)
		if err != nil {
			e.t.Fatal(err)
		}
		path = u.RequestURI()
	}
	e.t.Fatal("the pages never end")
	return nil
}

func positionsOf(envs []events.Envelope, keep func(events.Envelope) bool) []int64 {
	out := []int64{}
	for _, env := range envs {
		if keep(env) {
			out = append(out, env.Position)
		}
	}
	return out
}

func TestLoadBalancerEvents(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	writes := e.workload(6, 4, 120)
	deleted := e.deleteOne(writes)
	all := e.all()
	projectOf := map[string]string{}
	for _, w := range writes {
		projectOf[w.LoadBalancerID] = w.State.LoadBalancer.Spec.ProjectID
	}
	lbOf := func(env events.Envelope) string { return history.LoadBalancerOf(env) }

	// A deleted load balancer's whole history, one item checked in full.
	base := "/v2/lbaas/loadbalancers/" + deleted + "/events"
	m := e.getJSON(base, tenant(projectOf[deleted]), 200)
	items := m["events"].([]any)
	want := positionsOf(all, func(env events.Envelope) bool { return lbOf(env) == deleted })
	if len(items) != len(want) || len(m["events_links"].([]any)) != 0 {
		t.Fatalf("history of a deleted load balancer: %d items, want %d; links %v", len(items), len(want), m["events_links"])
	}
	first := items[0].(map[string]any)
	env := all[want[0]-1]
	if first["type"] != "loadbalancer.create_requested" || first["version"] != 1.0 ||
		first["position"] != float64(env.Position) || first["id"] != env.ID || first["stream"] != env.Stream ||
		first["loadbalancer_id"] != deleted || first["project_id"] != projectOf[deleted] ||
		first["time"] != history.FormatTime(env.Time) || first["schema_version"] != 1.0 || first["stored_schema_version"] != 1.0 ||
		first["correlation_id"] != "req-1" || first["causation_id"] != nil ||
		!reflect.DeepEqual(first["actor"], map[string]any{"project_id": projectOf[deleted], "user_id": "user-" + projectOf[deleted], "request_id": "req-1"}) {
		t.Errorf("first item %v\nfor %+v", first, env)
	}
	if lb := first["data"].(map[string]any)["loadbalancer"].(map[string]any); lb["id"] != deleted || lb["project_id"] != projectOf[deleted] {
		t.Errorf("data %v", first["data"])
	}
	last := items[len(items)-1].(map[string]any)
	if last["type"] != "loadbalancer.deleted" || last["actor"].(map[string]any)["project_id"] != nil {
		t.Errorf("last item %v", last)
	}
	if _, err := time_parse(first["time"].(string)); err != nil || !strings.Contains(first["time"].(string), ".") {
		t.Errorf("time %v: %v", first["time"], err)
	}

	// Pages, filters and their links.
	since, before := history.FormatTime(all[len(all)/3].Time), history.FormatTime(all[2*len(all)/3].Time)
	for lb, project := range projectOf {
		base := "/v2/lbaas/loadbalancers/" + lb + "/events"
		mine := func(env events.Envelope) bool { return lbOf(env) == lb }
		cases := []struct {
			query string
			keep  func(events.Envelope) bool
		}{
			{"", mine},
			{"type=member.create_requested&type=listener.*", func(env events.Envelope) bool {
				return mine(env) && (env.Type == "member.create_requested" || strings.HasPrefix(env.Type, "listener."))
			}},
			{"type=loadbalancer.activated,amphora.booted", func(env events.Envelope) bool {
				return mine(env) && (env.Type == "loadbalancer.activated" || env.Type == "amphora.booted")
			}},
			{"changes-since=" + url.QueryEscape(since) + "&changes-before=" + url.QueryEscape(before), func(env events.Envelope) bool {
				ts := history.FormatTime(env.Time)
				return mine(env) && ts >= since && ts <= before
			}},
		}
		for _, tc := range cases {
			want := positionsOf(all, tc.keep)
			for _, limit := range []int{2, 1000} {
				path := base + "?limit=" + strconv.Itoa(limit)
				if tc.query != "" {
					path += "&" + tc.query
				}
				if got := e.eventPositions(path, tenant(project), limit); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s:\n got %v\nwant %v", path, got, want)
				}
			}
		}
	}

	// previous link: the page just before the marker.
	if len(want) < 4 {
		t.Fatal("history too short")
	}
	m = e.getJSON(base+"?limit=2&marker="+strconv.FormatInt(want[1], 10), admin(), 200)
	links := m["events_links"].([]any)
	prev := links[0].(map[string]any)
	if prev["rel"] != "previous" || !strings.Contains(prev["href"].(string), "marker="+strconv.FormatInt(want[2], 10)+"&page_reverse=True") {
		t.Fatalf("links %v", links)
	}
	u, _ := url.Parse(prev["href"].(string))
	m = e.getJSON(u.RequestURI(), admin(), 200)
	if got := m["events"].([]any); len(got) != 2 || got[0].(map[string]any)["position"] != float64(want[0]) {
		t.Fatalf("previous page %v", m)
	}
	// fields
	m = e.getJSON(base+"?limit=1&fields=type&fields=position", admin(), 200)
	if got := m["events"].([]any)[0]; !reflect.DeepEqual(got, map[string]any{"type": "loadbalancer.create_requested", "position": float64(want[0])}) {
		t.Errorf("fields: %v", got)
	}
}

func time_parse(s string) (any, error) { return history.ParseTime(s) }

func TestEventListsRefusals(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	writes := e.workload(8, 4, 40)
	var p1, p2 string
	for _, w := range writes {
		if w.State.LoadBalancer.Spec.ProjectID == "p1" {
			p1 = w.LoadBalancerID
		} else {
			p2 = w.LoadBalancerID
		}
	}
	if p1 == "" || p2 == "" {
		t.Fatal("the workload needs a load balancer in each project")
	}
	lb := "/v2/lbaas/loadbalancers/" + p1 + "/events"
	cases := []struct {
		path   string
		who    []string
		status int
		fault  string
	}{
		{lb + "?marker=abc", admin(), 400, "Supplied pagination marker 'abc' is not valid."},
		{lb + "?marker=0", admin(), 400, "Supplied pagination marker '0' is not valid."},
		{lb + "?type=bogus", admin(), 400, `Invalid input for field/attribute type. Value: 'bogus'. Unknown event type "bogus".`},
		{lb + "?changes-since=yesterday", admin(), 400, "Invalid input for field/attribute changes-since. Value: 'yesterday'. Expected an RFC 3339 time."},
		{lb + "?sort=position", admin(), 400, `Unknown argument: "sort"`},
		{lb + "?project_id=p1", admin(), 400, `Unknown argument: "project_id"`},
		{"/v2/lbaas/loadbalancers/" + unknownID + "/events", admin(), 404, "Load Balancer " + unknownID + " not found."},
		{"/v2/lbaas/loadbalancers/" + p2 + "/events", tenant("p1"), 403, "Policy does not allow this request to be performed."},
		{"/v2/octavia/events", tenant("p1"), 403, "Policy does not allow this request to be performed."},
		{"/v2/octavia/events?bogus=1", admin(), 400, `Unknown argument: "bogus"`},
	}
	for _, tc := range cases {
		m := e.getJSON(tc.path, tc.who, tc.status)
		if m["faultstring"] != tc.fault {
			t.Errorf("GET %s: %v, want %q", tc.path, m, tc.fault)
		}
	}
	if rec := e.get(lb+"?limit=-1", admin()); rec.Code != 400 || !strings.Contains(rec.Body.String(), "Supplied pagination limit '-1' is not valid.") {
		t.Errorf("limit -1: %d %s", rec.Code, rec.Body)
	}
	e.getJSON(lb, tenant("p1"), 200)
}

func TestGlobalEvents(t *testing.T) {
	e := newHistEnv(t, v2.EventsConfig{})
	writes := e.workload(13, 4, 100)
	all := e.all()
	projectOf := map[string]string{}
	for _, w := range writes {
		projectOf[w.LoadBalancerID] = w.State.LoadBalancer.Spec.ProjectID
	}
	some := writes[len(writes)/2].LoadBalancerID
	cases := []struct {
		query string
		keep  func(events.Envelope) bool
	}{
		{"", func(events.Envelope) bool { return true }},
		{"project_id=p2", func(env events.Envelope) bool { return projectOf[history.LoadBalancerOf(env)] == "p2" }},
		{"loadbalancer_id=" + some + "&type=loadbalancer.*", func(env events.Envelope) bool {
			return history.LoadBalancerOf(env) == some && strings.HasPrefix(env.Type, "loadbalancer.")
		}},
		{"project_id=nobody", func(events.Envelope) bool { return false }},
	}
	for _, tc := range cases {
		want := positionsOf(all, tc.keep)
		for _, limit := range []int{3, 1000} {
			path := "/v2/octavia/events?limit=" + strconv.Itoa(limit)
			if tc.query != "" {
				path += "&" + tc.query
			}
			if got := e.eventPositions(path, admin(), limit); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n got %v\nwant %v", path, got, want)
			}
		}
	}
	// Every item names its load balancer's project, saga events included.
	m := e.getJSON("/v2/octavia/events", admin(), 200)
	for _, it := range m["events"].([]any) {
		it := it.(map[string]any)
		if it["project_id"] != projectOf[it["loadbalancer_id"].(string)] {
			t.Fatalf("item %v: project %s", it, projectOf[it["loadbalancer_id"].(string)])
		}
	}
}
