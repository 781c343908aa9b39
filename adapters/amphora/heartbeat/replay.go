package heartbeat

import (
	"slices"
	"sync"
	"time"
)

// The replay rule (what Receiver accepts from an amphora, after the HMAC):
//
//  1. The first message from an amphora id is accepted.
//  2. With the same boot id as the last accepted message, Seq must be
//     strictly greater than the last accepted Seq: an equal or lower Seq is
//     a replay (or a duplicate) and is dropped.
//  3. A boot id never seen for that amphora starts a new run (the agent
//     restarted): accepted whatever its Seq, so a restart is never taken
//     for a replay, even after a wall clock step back. A boot id seen
//     before (one of the last maxBoots runs) is an old run being replayed:
//     dropped. Boot ids are inside the HMAC, so they can't be forged.
//  4. Without a boot id (an Octavia agent, whose seq restarts at 0), a Seq
//     not greater than the last is accepted only after a silence of
//     RestartGap (the agent was down and came back); within the gap it is a
//     replay. This is weaker than 3 (a packet captured earlier can be
//     replayed during an outage), which is why octavia-es agents send a
//     boot id.
//
// Senders in this package also start Seq at the current Unix time in
// microseconds and never repeat or decrease it within a run, so a restarted
// agent normally has a greater Seq anyway and a receiver that only checks
// Seq (rule 2) accepts it too.
//
// State of amphorae silent for longer than stateTTL is forgotten, so deleted
// amphorae don't accumulate; their old packets would then pass rule 1, which
// is harmless: the health manager ignores amphorae it doesn't know.
const maxBoots = 16

type ampState struct {
	seq    uint64
	bootID string
	boots  []string // boot ids seen, oldest first, at most maxBoots
	at     time.Time
}

type replayGuard struct {
	restartGap time.Duration
	stateTTL   time.Duration

	mu   sync.Mutex
	amps map[string]*ampState
}

func newReplayGuard(restartGap, stateTTL time.Duration) *replayGuard {
	return &replayGuard{restartGap: restartGap, stateTTL: stateTTL, amps: map[string]*ampState{}}
}

// accept applies the rule above and records m when it is accepted.
func (g *replayGuard) accept(m Message, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.amps[m.AmphoraID]
	switch {
	case !ok:
		st = &ampState{}
		g.amps[m.AmphoraID] = st
	case m.BootID == "":
		if m.Seq <= st.seq && now.Sub(st.at) < g.restartGap {
			return false
		}
	case m.BootID == st.bootID:
		if m.Seq <= st.seq {
			return false
		}
	case slices.Contains(st.boots, m.BootID):
		return false
	}
	st.seq, st.at = m.Seq, now
	if m.BootID != "" && m.BootID != st.bootID {
		st.bootID = m.BootID
		st.boots = append(st.boots, m.BootID)
		if len(st.boots) > maxBoots {
			st.boots = slices.Delete(st.boots, 0, len(st.boots)-maxBoots)
		}
	}
	return true
}

// sweep forgets amphorae silent since before now-stateTTL.
func (g *replayGuard) sweep(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, st := range g.amps {
		if now.Sub(st.at) > g.stateTTL {
			delete(g.amps, id)
		}
	}
}
