// Package auth carries who is calling through a request's context. The noauth
// middleware fills it from Octavia's noauth headers; a Keystone middleware
// will fill the same Identity later, so handlers never read auth headers.
package auth

import "context"

// Identity is the caller of a request, as oslo.context describes it.
type Identity struct {
	ProjectID string // "" when the request names none
	UserID    string
	Roles     []string
	IsAdmin   bool // sees and acts on every project
	RequestID string
}

type identityKey struct{}
type requestIDKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity of ctx; ok is false when no auth
// middleware ran.
func FromContext(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// WithRequestID returns ctx carrying the request id (req-<uuid>) the server
// answers in x-openstack-request-id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id of ctx, "" if none.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
