// Package heartbeat is the amphora → health manager status message, as
// Octavia's (version 3): JSON, zlib-compressed, followed by the hex
// HMAC-SHA256 of the compressed bytes under a shared key; sent over UDP.
// The codec, the sender (amphora side) and the receiver (health manager
// side) live here.
package heartbeat

// Version is the message version octavia-es sends (Octavia's MSG_VER 3:
// counters are deltas since the previous message).
const Version = 3

// Message is one heartbeat.
type Message struct {
	AmphoraID string `json:"id"`
	Seq       uint64 `json:"seq"` // strictly increasing per agent run; a replay is dropped
	Version   int    `json:"ver"`
	// BootID is random per agent run (an octavia-es addition; Octavia's
	// receiver ignores unknown keys). It lets a receiver tell a restarted
	// agent from a replay when Seq goes backwards: see Receiver.
	BootID    string              `json:"boot_id,omitempty"`
	Listeners map[string]Listener `json:"listeners"`
	// Pools are keyed "<pool_id>:<listener_id>" as Octavia's.
	Pools map[string]Pool `json:"pools"`
}

// Listener is a frontend's status ("OPEN", "FULL", "STOP") and counter deltas.
type Listener struct {
	Status string `json:"status"`
	Stats  Stats  `json:"stats"`
}

// Stats are HAProxy frontend counters: bytes out/in, current connections
// (absolute), total connections and request errors (deltas).
type Stats struct {
	TX       int64 `json:"tx"`
	RX       int64 `json:"rx"`
	Conns    int64 `json:"conns"`
	TotConns int64 `json:"totconns"`
	EReq     int64 `json:"ereq"`
}

// Pool is a backend's status ("UP", "DOWN") and its members' statuses
// ("UP", "DOWN", "DRAIN", "MAINT", "no check"), keyed by member id.
type Pool struct {
	Status  string            `json:"status"`
	Members map[string]string `json:"members"`
}
