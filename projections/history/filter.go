package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Filter selects events. Zero fields select everything.
type Filter struct {
	LoadBalancerID string
	ProjectID      string // the load balancer's project
	// Types are event names ("listener.create_requested") or families
	// ("listener.*"); an event matching any of them is selected.
	Types []string
	// Since and Before bound the event time, both inclusive, compared at
	// microsecond precision (TimeFormat).
	Since, Before time.Time
}

// CheckTypes returns an error naming the first entry of types that is
// neither a registered event name nor a family ("name.*").
func CheckTypes(reg *events.Registry, types []string) error {
	for _, t := range types {
		if fam, ok := strings.CutSuffix(t, ".*"); ok && fam != "" && !strings.ContainsAny(fam, ".*") {
			continue
		}
		if reg.SchemaVersion(t) == 0 {
			return fmt.Errorf("unknown event type %q", t)
		}
	}
	return nil
}

// needsProject reports whether matching needs each event's project.
func (f Filter) needsProject() bool { return f.ProjectID != "" }

// matchEnvelope checks everything but the project.
func (f Filter) matchEnvelope(env events.Envelope) bool {
	if f.LoadBalancerID != "" && LoadBalancerOf(env) != f.LoadBalancerID {
		return false
	}
	if len(f.Types) > 0 && !matchType(f.Types, env.Type) {
		return false
	}
	t := truncate(env.Time)
	if !f.Since.IsZero() && t.Before(truncate(f.Since)) {
		return false
	}
	if !f.Before.IsZero() && t.After(truncate(f.Before)) {
		return false
	}
	return true
}

func matchType(types []string, name string) bool {
	for _, t := range types {
		if fam, ok := strings.CutSuffix(t, ".*"); ok {
			if strings.HasPrefix(name, fam+".") {
				return true
			}
		} else if t == name {
			return true
		}
	}
	return false
}
