package agent

import "sync"

// counterSet holds HAProxy frontend counters that heartbeats (version 3)
// report as deltas: bytes in and out, request errors, total connections.
type counterSet struct{ bin, bout, ereq, stot int64 }

func (a counterSet) add(b counterSet) counterSet {
	return counterSet{a.bin + b.bin, a.bout + b.bout, a.ereq + b.ereq, a.stot + b.stot}
}

// since is a - prev per counter; a counter that went down was reset (a new
// HAProxy), so all of its value is new, as Octavia's calculate_stats_deltas.
func (a counterSet) since(prev counterSet) counterSet {
	d := func(cur, last int64) int64 {
		if cur < last {
			return cur
		}
		return cur - last
	}
	return counterSet{d(a.bin, prev.bin), d(a.bout, prev.bout), d(a.ereq, prev.ereq), d(a.stot, prev.stot)}
}

// counters turns absolute frontend counters into deltas between
// heartbeats, per load balancer and listener. A reload starts a worker
// whose counters restart at 0: the agent folds what the old worker counted
// since the last heartbeat into a pending delta just before the reload and
// restarts the baseline at 0, so neither that traffic nor the new worker's
// first counts are lost (Octavia's "went down, so take it all" rule alone
// undercounts when the new worker has already passed the old value).
type counters struct {
	mu      sync.Mutex
	last    map[string]map[string]counterSet // lb id -> listener id -> absolute at the last sample
	pending map[string]map[string]counterSet // lb id -> listener id -> delta not reported yet
}

func newCounters() *counters {
	return &counters{last: map[string]map[string]counterSet{}, pending: map[string]map[string]counterSet{}}
}

// delta returns what a listener counted since the previous call (plus any
// pending delta) and records cur as the new baseline.
func (c *counters) delta(lbID, listenerID string, cur counterSet) counterSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := cur.since(inner(c.last, lbID)[listenerID])
	inner(c.last, lbID)[listenerID] = cur
	if p, ok := c.pending[lbID][listenerID]; ok {
		d = d.add(p)
		delete(c.pending[lbID], listenerID)
	}
	return d
}

// beforeReload folds the old worker's last counts (cur, by listener) into
// the pending deltas and restarts the baselines at 0.
func (c *counters) beforeReload(lbID string, cur map[string]counterSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	last, pending := inner(c.last, lbID), inner(c.pending, lbID)
	for id, v := range cur {
		pending[id] = pending[id].add(v.since(last[id]))
	}
	c.last[lbID] = map[string]counterSet{}
}

// forget drops a load balancer's counters (its HAProxy stopped or started
// afresh).
func (c *counters) forget(lbID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.last, lbID)
	delete(c.pending, lbID)
}

func inner(m map[string]map[string]counterSet, k string) map[string]counterSet {
	v, ok := m[k]
	if !ok {
		v = map[string]counterSet{}
		m[k] = v
	}
	return v
}
