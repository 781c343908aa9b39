package loadbalancer

import "fmt"

// Kind classifies a refusal; the HTTP layer maps it to Octavia's codes.
type Kind int

const (
	// Invalid: the request is not acceptable (400, "Validation failure: ..."
	// style messages are kept verbatim in Message).
	Invalid Kind = iota + 1
	// NotFound: an object named by the command does not exist (404).
	NotFound
	// Conflict: duplicates and objects in use (409).
	Conflict
	// Immutable: the load balancer or object is in a PENDING_* state (409).
	Immutable
)

// Error is a command refused by Decide. Message is Octavia's faultstring.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

func refuse(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}
