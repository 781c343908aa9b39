// Package fault writes Octavia's two error bodies. Octavia answers errors
// raised while wsme handles a request as
// {"faultcode": "Client"|"Server", "faultstring": ..., "debuginfo": null},
// and errors raised before wsme (pecan routing, query hooks: unknown path,
// 405, bad limit or sort direction) as {"code": N, "title": ..., "description": ...}.
package fault

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Shape selects which of Octavia's two error bodies an Error renders as.
type Shape int

const (
	// WSME is {"faultcode", "faultstring", "debuginfo"}.
	WSME Shape = iota
	// Pecan is {"code", "title", "description"}.
	Pecan
)

// Error is an HTTP error in Octavia's format. Message is the faultstring
// (WSME) or the description (Pecan).
type Error struct {
	Status  int
	Message string
	Shape   Shape
	// Header holds extra response headers (e.g. Retry-After on a 503).
	Header http.Header
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// New is a wsme-shaped error.
func New(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: sprintf(format, args...)}
}

// NewPecan is a pecan-shaped error.
func NewPecan(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: sprintf(format, args...), Shape: Pecan}
}

// BadRequest is a wsme-shaped 400.
func BadRequest(format string, args ...any) *Error {
	return New(http.StatusBadRequest, format, args...)
}

// Validation is Octavia's ValidationException: 400 "Validation failure: ...".
func Validation(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Message: "Validation failure: " + sprintf(format, args...)}
}

// NotFound is Octavia's NotFound: 404 "<Resource> <id> not found.".
func NotFound(resource, id string) *Error {
	return New(http.StatusNotFound, "%s %s not found.", resource, id)
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

type wsmeBody struct {
	FaultCode   string  `json:"faultcode"`
	FaultString string  `json:"faultstring"`
	DebugInfo   *string `json:"debuginfo"`
}

type pecanBody struct {
	Code        int    `json:"code"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Write renders e.
func Write(w http.ResponseWriter, e *Error) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	var body any
	if e.Shape == Pecan {
		body = pecanBody{Code: e.Status, Title: http.StatusText(e.Status), Description: e.Message}
	} else {
		code := "Client"
		if e.Status >= 500 {
			code = "Server"
		}
		body = wsmeBody{FaultCode: code, FaultString: e.Message}
	}
	WriteJSON(w, e.Status, body)
}

// WriteJSON writes v as the JSON body with status. HTML characters are not
// escaped: Octavia (Python's json) does not escape them either.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may be gone; nothing left to tell it
}
