package historytest_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// The full workload records every registered event type: tenant creates,
// updates and deletes of every object, operator actions, and saga outcomes
// with their compensations and failures.
func TestWorkloadRecordsEveryEventType(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := events.NewRegistry()
	writes, err := historytest.Run(ctx, loadbalancer.NewHandler(store, reg, nil), rand.New(rand.NewPCG(3, 1)),
		historytest.Options{LoadBalancers: 8, Steps: 1500, Projects: []string{"p1", "p2"}, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.ReadAll(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, env := range all {
		seen[env.Type]++
	}
	var missing []string
	for _, name := range reg.Types() {
		if seen[name] == 0 {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d writes, %d events; never recorded: %v (seen %v)", len(writes), len(all), missing, seen)
	}
}
