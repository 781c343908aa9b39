package haproxy

import (
	"crypto/sha1" //nolint:gosec // a stable short name, not security
	"encoding/base64"
	"strings"
)

// FrontendName is the HAProxy frontend serving a listener.
func FrontendName(listenerID string) string { return listenerID }

// BackendName is the HAProxy backend serving a pool for a listener
// (Octavia's "<pool id>:<listener id>": a pool may serve several
// listeners).
func BackendName(poolID, listenerID string) string { return poolID + ":" + listenerID }

// ParseBackendName splits a backend name made by BackendName.
func ParseBackendName(name string) (poolID, listenerID string, ok bool) {
	return strings.Cut(name, ":")
}

// ServerName is the HAProxy server of a member.
func ServerName(memberID string) string { return memberID }

// PeerName is the local peer's name: Octavia's base64 SHA-1 of the amphora
// id without '=' (HAProxy restricts peer names).
func PeerName(amphoraID string) string {
	sum := sha1.Sum([]byte(amphoraID)) //nolint:gosec
	enc := base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
	return strings.TrimRight(enc.EncodeToString(sum[:]), "=")
}

// peersName is the peers section of a load balancer (Octavia's
// "<id without dashes>_peers").
func peersName(lbID string) string { return strings.ReplaceAll(lbID, "-", "") + "_peers" }
