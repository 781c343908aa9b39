package loadbalancer

import "github.com/octavia-es/octavia-es/events"

// Decide validates cmd against s and returns the events that record it, or
// an *Error refusing it. Pure.
func Decide(s State, cmd Command) ([]events.Event, error) {
	panic("TODO: implemented by the commands work")
}
