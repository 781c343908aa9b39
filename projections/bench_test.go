package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

// BenchmarkListLoadBalancers: a page of 1000 of 10,000 load balancers (the
// aim is p99 < 20 ms for GET). "raw" serves the stored documents; "typed"
// decodes them into views; "typed+encode" adds the re-encoding a handler of
// typed views would do. p50/p99 are reported in ms per call.
func BenchmarkListLoadBalancers(b *testing.B) {
	rm := openTest(b)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var states []loadbalancer.State
	for i := 0; i < 10000; i++ {
		project := fmt.Sprintf("project-%d", i%10)
		states = append(states, lbState(i, project, base.Add(time.Duration(i/3)*time.Second),
			named(fmt.Sprintf("lb-%05d", i%5000)), tagged("env:prod", fmt.Sprintf("team-%d", i%7))))
	}
	writeStates(b, rm, 1, states...)
	ctx := context.Background()
	middle := lbIDOf(5000)

	run := func(name string, o ListOptions, call func(ListOptions) (int, error)) {
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				n, err := call(o)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatal("empty page")
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			ms := func(q float64) float64 {
				return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
	raw := func(o ListOptions) (int, error) {
		p, err := rm.ListLoadBalancersRaw(ctx, o)
		return len(p.Items), err
	}
	typed := func(o ListOptions) (int, error) {
		p, err := rm.ListLoadBalancers(ctx, o)
		return len(p.Items), err
	}
	typedEncode := func(o ListOptions) (int, error) {
		p, err := rm.ListLoadBalancers(ctx, o)
		if err != nil {
			return 0, err
		}
		body, err := json.Marshal(p.Items)
		return len(body) / 1000, err
	}
	first := ListOptions{Limit: 1000}
	run("raw", first, raw)
	run("typed", first, typed)
	run("typed+encode", first, typedEncode)
	run("raw/marker", ListOptions{Limit: 1000, Marker: middle}, raw)
	run("raw/desc+marker", ListOptions{Limit: 1000, Marker: middle, Sort: []SortKey{{Key: "created_at", Desc: true}}}, raw)
	run("raw/project", ListOptions{Limit: 1000, ProjectID: "project-3"}, raw)
	run("raw/name+desc", ListOptions{Limit: 1000, Sort: []SortKey{{Key: "name", Desc: true}}}, raw)
	run("raw/tag-filter", ListOptions{Limit: 1000, Tags: []string{"team-3"}}, raw)
}

// BenchmarkProjectorCatchUp: a projector catching up on 1,000 load
// balancers of 4 events each (create, VIP, amphora, activation); reports
// events per second.
func BenchmarkProjectorCatchUp(b *testing.B) {
	src := newMemSource()
	var head int64
	for i := 0; i < 1000; i++ {
		lb := fmt.Sprintf("lb-%04d", i)
		src.append(b, lb, lbCreate(lb, "p"))
		head = src.append(b, lb, lbActivate(lb)...)
	}
	for b.Loop() {
		b.StopTimer()
		rm := openTest(b)
		b.StartTimer()
		r := startProjector(b, rm, src, nil)
		waitFor(b, rm, head)
		b.StopTimer()
		r.stop(b)
		b.StartTimer()
	}
	b.ReportMetric(float64(head)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
