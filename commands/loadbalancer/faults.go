package loadbalancer

import (
	"fmt"
	"strconv"
	"strings"
)

// Octavia's faultstrings (common/exceptions.py), reproduced verbatim: the
// API answers with Message as is.

// Resource names as Octavia's data_models._name() spells them.
const (
	resLoadBalancer  = "Load Balancer"
	resListener      = "Listener"
	resPool          = "Pool"
	resMember        = "Member"
	resHealthMonitor = "Health Monitor"
)

// notFound is exceptions.NotFound.
func notFound(resource, id string) error {
	return refuse(NotFound, "%s %s not found.", resource, id)
}

// immutableObject is exceptions.ImmutableObject (child changes on a locked
// load balancer or pool).
func immutableObject(resource, id string) error {
	return refuse(Immutable, "%s %s is immutable and cannot be updated.", resource, id)
}

// lbPendingState is exceptions.LBPendingStateError (PUT, DELETE and
// failover of the load balancer itself).
func lbPendingState(state, id string) error {
	return refuse(Immutable, "Invalid state %s of loadbalancer resource %s", state, id)
}

// validationFailure is exceptions.ValidationException.
func validationFailure(format string, args ...any) error {
	return &Error{Kind: Invalid, Message: "Validation failure: " + fmt.Sprintf(format, args...)}
}

// invalidOption is exceptions.InvalidOption.
func invalidOption(value, option string) error {
	return refuse(Invalid, "%s is not a valid option for %s", value, option)
}

// listenerNoChildren is exceptions.ListenerNoChildren.
func listenerNoChildren(protocol string) error {
	return refuse(Invalid, "Protocol %s listeners cannot have child objects.", protocol)
}

func idAlreadyExists() error {
	return refuse(Conflict, "Already an entity with that specified id.")
}

func duplicateListenerEntry(protocol string, port int) error {
	return refuse(Conflict, "Another Listener on this Load Balancer is already using protocol %s and protocol_port %d", protocol, port)
}

func duplicateMemberEntry(ip string, port int) error {
	return refuse(Conflict, "Another member on this pool is already using ip %s on protocol_port %d", ip, port)
}

func duplicateHealthMonitor() error {
	return refuse(Conflict, "This pool already has a health monitor")
}

func duplicatePoolEntry() error {
	return refuse(Conflict, "This listener already has a default pool")
}

// pyStr renders a string as Python's repr does ('x'), for messages that
// Octavia formats from Python lists.
func pyStr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}

// pyList renders a list of strings as Python's repr does (['a', 'b']).
func pyList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = pyStr(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyFloat renders a float as Python's str does (1.0, 1.1).
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}
