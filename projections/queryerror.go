package projections

import "fmt"

// QueryError is a list query the read model refuses. errors.Is(err,
// ErrInvalidQuery) holds; Error() is Octavia's faultstring verbatim (the API
// answers 400 with it) and Param names the offending parameter.
type QueryError struct {
	Param   string
	Message string
}

func (e *QueryError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrInvalidQuery) true.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }

// Octavia's messages (common/exceptions.py): an unknown filter does not name
// itself; sort keys and markers do.
func invalidFilter(param string) error {
	return &QueryError{Param: param, Message: "One or more arguments are either duplicate or invalid"}
}

func invalidSortKey(key string) error {
	return &QueryError{Param: "sort", Message: fmt.Sprintf("Supplied sort key '%s' is not valid.", key)}
}

func invalidMarker(marker string) error {
	return &QueryError{Param: "marker", Message: fmt.Sprintf("Supplied pagination marker '%s' is not valid.", marker)}
}
