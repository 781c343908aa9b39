package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The read model's tables are grouped into projections, each rebuilt on its
// own by Replay. Every table lives in generations (load_balancers_g1,
// load_balancers_g2, ...); the view named as the table (load_balancers)
// selects the projection's current generation, and every query reads the
// view. A replay builds the next generation beside the current one and
// switches the views in one transaction (docs/replay.md).
const (
	// ProjectionLoadBalancers: load balancers, listeners, pools, members
	// and health monitors.
	ProjectionLoadBalancers = "loadbalancers"
	// ProjectionAmphorae: the amphorae of the admin API.
	ProjectionAmphorae = "amphorae"
	// ProjectionStatus: the status trees of GET .../status.
	ProjectionStatus = "status"
)

var projectionNames = [numProjections]string{ProjectionLoadBalancers, ProjectionAmphorae, ProjectionStatus}

const numProjections = 3

// Projections names every projection, in the order Replay rebuilds them.
func Projections() []string { return slices.Clone(projectionNames[:]) }

// projectionIndex returns the index of a projection name, or -1.
func projectionIndex(name string) int { return slices.Index(projectionNames[:], name) }

// tablesOf lists the tables of projection i.
func tablesOf(i int) []table {
	switch projectionNames[i] {
	case ProjectionAmphorae:
		return []table{tAmphorae}
	case ProjectionStatus:
		return []table{statusTable}
	}
	return []table{tLoadBalancers, tListeners, tPools, tMembers, tHealthMonitors}
}

// projectionOf is the index of the projection table t belongs to.
func projectionOf(t table) int {
	switch t {
	case tAmphorae:
		return projectionIndex(ProjectionAmphorae)
	case statusTable:
		return projectionIndex(ProjectionStatus)
	}
	return projectionIndex(ProjectionLoadBalancers)
}

// generations holds a generation per projection (indexed as
// projectionNames); 0 = none.
type generations [numProjections]int64

func (g generations) String() string {
	parts := make([]string, len(g))
	for i, n := range g {
		parts[i] = fmt.Sprintf("%s=%d", projectionNames[i], n)
	}
	return strings.Join(parts, " ")
}

// of is the generation of table t.
func (g generations) of(t table) int64 { return g[projectionOf(t)] }

// physical is the name of table t in generation gen.
func physical(t table, gen int64) string { return fmt.Sprintf("%s_g%d", t, gen) }

// readGenerations reads the current generations (0 for a projection
// without a row).
func readGenerations(ctx context.Context, db execer) (generations, error) {
	return queryGenerations(ctx, db, "")
}

// lockGenerations reads the generations in a write transaction and keeps a
// replay from switching them until it ends (on SQLite the write lock taken
// at BEGIN does).
func lockGenerations(ctx context.Context, t tx) (generations, error) {
	return queryGenerations(ctx, t, t.d.lockRows)
}

func queryGenerations(ctx context.Context, db execer, lock string) (generations, error) {
	var g generations
	rows, err := db.QueryContext(ctx, `SELECT projection, generation FROM generations`+lock)
	if err != nil {
		return g, fmt.Errorf("projections: read generations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var gen int64
		if err := rows.Scan(&name, &gen); err != nil {
			return g, fmt.Errorf("projections: read generations: %w", err)
		}
		if i := projectionIndex(name); i >= 0 {
			g[i] = gen
		}
	}
	if err := rows.Err(); err != nil {
		return g, fmt.Errorf("projections: read generations: %w", err)
	}
	return g, nil
}

// projectionSet is a set of projections (bit i = projectionNames[i]).
type projectionSet uint8

// allProjections holds every projection.
const allProjections projectionSet = 1<<numProjections - 1

func (s projectionSet) has(name string) bool {
	i := projectionIndex(name)
	return i >= 0 && s&(1<<i) != 0
}

func (s projectionSet) hasIndex(i int) bool { return s&(1<<i) != 0 }

// names lists the projections of s in projectionNames order.
func (s projectionSet) names() []string {
	var out []string
	for i, n := range projectionNames {
		if s.hasIndex(i) {
			out = append(out, n)
		}
	}
	return out
}

// parseProjections turns names into a set; none = every projection.
func parseProjections(names []string) (projectionSet, error) {
	if len(names) == 0 {
		return allProjections, nil
	}
	var s projectionSet
	for _, n := range names {
		i := projectionIndex(n)
		if i < 0 {
			return 0, fmt.Errorf("projections: unknown projection %q (known: %s)", n, strings.Join(projectionNames[:], ", "))
		}
		s |= 1 << i
	}
	return s, nil
}
