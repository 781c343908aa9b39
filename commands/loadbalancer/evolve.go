package loadbalancer

import (
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Evolve applies one event (at stream version, recorded at time at) to s and
// returns the new state. It never fails: events are facts.
func Evolve(s State, version int64, at time.Time, e events.Event) State {
	panic("TODO: implemented by the commands work")
}
