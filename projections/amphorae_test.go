package projections

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/octavia-es/octavia-es/events"
)

func booted(lb, id string) events.Event {
	return events.AmphoraBooted{LoadBalancerID: lb, Amphora: events.Amphora{
		ID: id, LoadBalancerID: lb, ComputeID: "compute-" + id, Role: "STANDALONE",
		LBNetworkIP: strp("127.0.0.42"), ImageID: strp("image-1"), ComputeFlavor: strp("flavor-1"),
		ComputeDriver: "local", NetworkDriver: "local", AmphoraDriver: "agent",
	}}
}

// getAmphoraJSON is the stored document of amphora id ("" when not served).
func getAmphoraJSON(t *testing.T, rm *ReadModel, id string) string {
	t.Helper()
	v, err := rm.GetAmphora(context.Background(), id)
	if errors.Is(err, ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The amphorae table follows an amphora through boot, failover (old one
// PENDING_DELETE, then gone), a failed failover (ERROR) and the load
// balancer's delete, with Octavia's JSON. The projector runs with a cache of
// one graph and another stream interleaved, so the amphora times must
// survive every reload of the stream.
func TestProjectorAmphoraeLifecycle(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	startProjector(t, rm, src, func(p *Projector) { p.fold.cache = newGraphCache(1) })
	noise := func() {
		src.append(t, "other", events.OperatingStatusesChanged{LoadBalancerID: "other", LoadBalancer: "ONLINE"})
	}
	src.append(t, "other", lbCreate("other", "q")) // position 1

	// Positions 2..5 (times 05:06:02..05): create, VIP, boot, activate.
	src.append(t, "a", lbCreate("a", "p"))
	src.append(t, "a", lbActivate("a")[0])
	src.append(t, "a", booted("a", "amp-1"))
	pos := src.append(t, "a", events.LoadBalancerActivated{LoadBalancerID: "a"})
	waitFor(t, rm, pos)
	golden := compact(t, `{"id": "amp-1", "loadbalancer_id": "a", "compute_id": "compute-amp-1",
		"lb_network_ip": "127.0.0.42", "vrrp_ip": null, "ha_ip": "10.0.0.10", "vrrp_port_id": null,
		"ha_port_id": "port-a", "cert_expiration": null, "cert_busy": false, "role": "STANDALONE",
		"status": "ALLOCATED", "vrrp_interface": null, "vrrp_id": null, "vrrp_priority": null,
		"cached_zone": null, "created_at": "2026-03-04T05:06:04", "updated_at": "2026-03-04T05:06:04",
		"image_id": "image-1", "compute_flavor": "flavor-1"}`)
	if got := getAmphoraJSON(t, rm, "amp-1"); got != golden {
		t.Errorf("booted amphora\n got %s\nwant %s", got, golden)
	}

	noise()                                                                             // 6
	src.append(t, "a", events.LoadBalancerFailoverRequested{LoadBalancerID: "a"})       // 7
	noise()                                                                             // 8
	src.append(t, "a", booted("a", "amp-2"))                                            // 9
	pos = src.append(t, "other", events.LoadBalancerActivated{LoadBalancerID: "other"}) // 10
	waitFor(t, rm, pos)
	want := map[string][2]string{ // status, updated_at
		"amp-1": {"PENDING_DELETE", "2026-03-04T05:06:07"},
		"amp-2": {"ALLOCATED", "2026-03-04T05:06:09"},
	}
	for id, w := range want {
		v, err := rm.GetAmphora(context.Background(), id)
		if err != nil || v.Status != w[0] || v.UpdatedAt == nil || *v.UpdatedAt != w[1] {
			t.Errorf("during failover %s = %+v, %v; want %v", id, v, err, w)
		}
	}
	if v, _ := rm.GetAmphora(context.Background(), "amp-1"); v.CreatedAt != "2026-03-04T05:06:04" {
		t.Errorf("amp-1 created_at moved on reload: %s", v.CreatedAt)
	}

	src.append(t, "a", events.AmphoraDeleted{LoadBalancerID: "a", AmphoraID: "amp-1"}) // 11
	pos = src.append(t, "a", events.LoadBalancerActivated{LoadBalancerID: "a"})        // 12
	waitFor(t, rm, pos)
	if got := getAmphoraJSON(t, rm, "amp-1"); got != "" {
		t.Errorf("deleted amphora still served: %s", got)
	}

	// A failover that fails leaves the old amphora in ERROR.
	src.append(t, "a", events.LoadBalancerFailoverRequested{LoadBalancerID: "a"}) // 13
	pos = src.append(t, "a", events.LoadBalancerProvisioningFailed{LoadBalancerID: "a", Operation: "failover", Reason: "boom"})
	waitFor(t, rm, pos) // 14
	if v, err := rm.GetAmphora(context.Background(), "amp-2"); err != nil || v.Status != "ERROR" || *v.UpdatedAt != "2026-03-04T05:06:14" {
		t.Errorf("after a failed failover: %+v, %v", v, err)
	}
	recs, err := rm.AmphoraRecords(context.Background())
	wantRec := AmphoraRecord{ID: "amp-2", LoadBalancerID: "a", Status: "ERROR", ComputeDriver: "local",
		NetworkDriver: "local", AmphoraDriver: "agent", LoadBalancerProvisioning: "ERROR"}
	if err != nil || len(recs) != 1 || recs[0] != wantRec {
		t.Errorf("records = %+v, %v; want [%+v]", recs, err, wantRec)
	}

	// Delete: PENDING_DELETE, then nothing once the graph is gone.
	src.append(t, "a", events.LoadBalancerDeleteRequested{LoadBalancerID: "a", Cascade: true})
	pos = src.append(t, "a", events.OperatingStatusesChanged{LoadBalancerID: "a", LoadBalancer: "OFFLINE"})
	waitFor(t, rm, pos)
	if r, err := rm.AmphoraRecordByID(context.Background(), "amp-2"); err != nil || r.Status != "PENDING_DELETE" || r.LoadBalancerProvisioning != "PENDING_DELETE" {
		t.Errorf("during delete: %+v, %v", r, err)
	}
	src.append(t, "a", events.VipReleased{LoadBalancerID: "a"})
	pos = src.append(t, "a", events.LoadBalancerDeleted{LoadBalancerID: "a"})
	waitFor(t, rm, pos)
	if _, err := rm.AmphoraRecordByID(context.Background(), "amp-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("amphora of a deleted load balancer: %v", err)
	}
	if n := countRows(t, rm, "amphorae"); n != 0 {
		t.Errorf("%d amphora rows left", n)
	}
}

func countRows(t *testing.T, rm *ReadModel, table string) int {
	t.Helper()
	var n int
	if err := rm.read.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestListAmphorae(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	startProjector(t, rm, src, nil)
	var pos int64
	for _, lb := range []string{"a", "b", "c"} {
		project := "p"
		if lb == "c" {
			project = "q"
		}
		src.append(t, lb, lbCreate(lb, project))
		src.append(t, lb, lbActivate(lb)[0])
		src.append(t, lb, booted(lb, "amp-"+lb))
		pos = src.append(t, lb, events.LoadBalancerActivated{LoadBalancerID: lb})
	}
	pos = src.append(t, "b", events.LoadBalancerFailoverRequested{LoadBalancerID: "b"})
	waitFor(t, rm, pos)
	ctx := context.Background()

	ids := func(p Page[AmphoraView]) []string {
		var out []string
		for _, v := range p.Items {
			out = append(out, v.ID)
		}
		return out
	}
	cases := []struct {
		name string
		o    ListOptions
		want []string
	}{
		{"all, oldest first", ListOptions{}, []string{"amp-a", "amp-b", "amp-c"}},
		{"loadbalancer_id", ListOptions{Filters: map[string][]string{"loadbalancer_id": {"b"}}}, []string{"amp-b"}},
		{"load_balancer_id", ListOptions{Filters: map[string][]string{"load_balancer_id": {"a", "c"}}}, []string{"amp-a", "amp-c"}},
		{"status", ListOptions{Filters: map[string][]string{"status": {"PENDING_DELETE"}}}, []string{"amp-b"}},
		{"role and compute_id", ListOptions{Filters: map[string][]string{"role": {"STANDALONE"}, "compute_id": {"compute-amp-c"}}}, []string{"amp-c"}},
		{"doc attribute", ListOptions{Filters: map[string][]string{"ha_port_id": {"port-a"}}}, []string{"amp-a"}},
		{"cert_busy false", ListOptions{Filters: map[string][]string{"cert_busy": {"false"}}}, []string{"amp-a", "amp-b", "amp-c"}},
		{"project filter", ListOptions{Filters: map[string][]string{"project_id": {"q"}}}, []string{"amp-c"}},
		{"project scope", ListOptions{ProjectID: "p"}, []string{"amp-a", "amp-b"}},
		{"tags ignored", ListOptions{Tags: []string{"x"}, Filters: map[string][]string{"not-tags": {"y"}}}, []string{"amp-a", "amp-b", "amp-c"}},
		{"sort desc", ListOptions{Sort: []SortKey{{Key: "id", Desc: true}}}, []string{"amp-c", "amp-b", "amp-a"}},
		{"page", ListOptions{Limit: 1, Marker: "amp-a"}, []string{"amp-b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := rm.ListAmphorae(ctx, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p); !slices.Equal(got, c.want) {
				t.Errorf("ids %v, want %v", got, c.want)
			}
		})
	}

	for _, bad := range []ListOptions{
		{Filters: map[string][]string{"name": {"x"}}},
		{Filters: map[string][]string{"provisioning_status": {"ACTIVE"}}},
		{Sort: []SortKey{{Key: "operating_status"}}},
	} {
		if _, err := rm.ListAmphoraeRaw(ctx, bad); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%+v: err %v, want an invalid query", bad, err)
		}
	}
	raw, err := rm.ListAmphoraeRaw(ctx, ListOptions{Limit: 2})
	if err != nil || len(raw.Items) != 2 || raw.NextMarker != "amp-b" {
		t.Errorf("raw page %d items next %q, %v", len(raw.Items), raw.NextMarker, err)
	}
	if _, err := rm.GetAmphora(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing amphora: %v", err)
	}
}
