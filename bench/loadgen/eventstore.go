package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

const (
	appendPkg   = "./adapters/eventstore/sqlite/"
	baselinePkg = "./bench/sqlitebaseline/"

	// defaultPayloadBytes is the data size of BenchmarkAppend's event (a
	// listener spec, 167 bytes) for when it doesn't report payload_bytes.
	defaultPayloadBytes = 167
)

// RunEventStore runs the event store package's benchmarks (`-bench .`), then
// the plain-INSERT baseline with the payload size and rows per transaction
// of each BenchmarkAppend variant, and pairs them. Raw output goes to raw.
func RunEventStore(ctx context.Context, repo, benchtime string, raw *strings.Builder) EventStore {
	var es EventStore
	res, out, err := RunGoBench(ctx, repo, appendPkg, ".", benchtime, nil)
	raw.Write(out)
	if err != nil {
		es.Error = err.Error()
		return es
	}
	es.Results = res

	perTx := map[int]bool{}
	var notes []string
	for _, g := range res {
		if !strings.HasPrefix(g.Name, "BenchmarkAppend") {
			continue // reads have no INSERT baseline
		}
		payload, n, how := matchShape(g)
		if es.PayloadBytes == 0 {
			es.PayloadBytes = payload
		}
		perTx[n] = true
		es.Pairs = append(es.Pairs, Pair{Append: g.Name, Baseline: fmt.Sprintf("BenchmarkPlainInsert/rows=%d/ids=%s", n, idKind(g.Name)), RowsPerTx: n})
		notes = append(notes, g.Name+": "+how)
	}
	if len(es.Pairs) == 0 {
		es.Error = "no BenchmarkAppend in " + appendPkg
		return es
	}
	es.Matched = strings.Join(notes, "; ")
	var list []string
	for n := range perTx {
		list = append(list, strconv.Itoa(n))
	}
	sort.Strings(list)
	env := []string{
		"BENCH_PAYLOAD_BYTES=" + strconv.Itoa(es.PayloadBytes),
		"BENCH_ROWS_PER_TX=" + strings.Join(list, ","),
	}
	base, out, err := RunGoBench(ctx, repo, baselinePkg, "PlainInsert", benchtime, env)
	raw.Write(out)
	if err != nil {
		es.Error = err.Error()
		return es
	}
	es.Baseline = base
	return es
}

// idKind is the kind of event id an append benchmark inserts: random v4
// UUIDs when its name says the caller supplies them, else the store's own
// time-ordered v7 ids. It matters: random keys insert all over the unique
// index on id, time-ordered ones at its end.
func idKind(appendName string) string {
	if strings.Contains(appendName, "uuidv4") || strings.Contains(appendName, "v4") {
		return "v4"
	}
	return "v7"
}

// BaselineFor returns the baseline result paired with the append benchmark name.
func (es EventStore) BaselineFor(appendName string) (GoBench, int, bool) {
	for _, p := range es.Pairs {
		if p.Append != appendName {
			continue
		}
		for _, g := range es.Baseline {
			if g.Name == p.Baseline {
				return g, p.RowsPerTx, true
			}
		}
	}
	return GoBench{}, 0, false
}

// matchShape infers, from one append benchmark, the bytes of data per event
// and the events per op (one op = one Append = one transaction), so the
// baseline inserts rows of the same size in transactions of the same size.
// It reads explicit metrics ("payload_bytes" or "B/event", "events/op")
// first, then b.SetBytes (MB/s) and events/s; what it can't infer falls back
// to defaultPayloadBytes and one event per op.
func matchShape(g GoBench) (payload, perTx int, how string) {
	payload, perTx = defaultPayloadBytes, 1
	m := g.Metrics
	var notes []string
	ns := m["ns/op"]
	switch {
	case m["events/op"] > 0:
		perTx = int(math.Round(m["events/op"]))
		notes = append(notes, "events/op reported")
	case m["events/s"] > 0 && ns > 0:
		perTx = max(1, int(math.Round(m["events/s"]*ns/1e9)))
		notes = append(notes, fmt.Sprintf("%d events/op from events/s × ns/op", perTx))
	default:
		notes = append(notes, "1 event/op assumed")
	}
	switch {
	case m["payload_bytes"] > 0:
		payload = int(m["payload_bytes"])
		notes = append(notes, "payload_bytes reported")
	case m["B/event"] > 0:
		payload = int(m["B/event"])
		notes = append(notes, "B/event reported")
	case m["MB/s"] > 0 && ns > 0:
		// SetBytes(n) prints MB/s = n / ns/op × 1e3.
		payload = max(1, int(math.Round(m["MB/s"]*ns/1e3))/perTx)
		notes = append(notes, "payload from SetBytes")
	default:
		notes = append(notes, fmt.Sprintf("payload %d B as its benchEvent", defaultPayloadBytes))
	}
	return payload, perTx, strings.Join(notes, ", ")
}
