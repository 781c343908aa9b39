// Package haproxy renders a load balancer's amphora.Config into the
// configuration of one master-worker HAProxy (Octavia 11's combined
// listeners: one file per load balancer holding all of its listeners).
//
// The renderer runs on the controller side; the amphora agent only writes
// the bytes and reloads. Rendering is pure and deterministic: the same
// Config and Options always give the same bytes, so an agent can skip a
// reload when nothing changed. Objects are rendered in id order and nothing
// that HAProxy does not use (names, descriptions, the stream version) is
// written.
//
// Names the health manager reads back from the stats socket: a listener is
// the frontend named by its id, its default pool the backend
// "<pool id>:<listener id>" (BackendName), a member the server named by its
// id, as Octavia's agent expects them.
package haproxy
