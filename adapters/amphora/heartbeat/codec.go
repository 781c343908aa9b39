package heartbeat

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Envelope limits. A heartbeat travels in one UDP datagram, so an envelope
// can't be larger than MaxEnvelope (Octavia's UDP_MAX_SIZE); the JSON inside
// is bounded so that a small packet can't inflate into a large allocation.
const (
	MaxEnvelope = 64 * 1024
	MaxJSON     = 4 * 1024 * 1024
)

const (
	rawMACLen = sha256.Size     // Octavia's old digest() form
	hexMACLen = 2 * sha256.Size // Octavia's hexdigest() form, what it sends
)

// Decode errors; Receiver counts them apart.
var (
	ErrBadHMAC   = errors.New("heartbeat: HMAC mismatch")
	ErrMalformed = errors.New("heartbeat: malformed envelope")
)

// Encode wraps m as Octavia's wrap_envelope: zlib (level 9) JSON followed by
// the 64 hex characters of its HMAC-SHA256 under key.
func Encode(m Message, key []byte) ([]byte, error) {
	js, err := json.Marshal(withEmptyMaps(m))
	if err != nil {
		return nil, fmt.Errorf("heartbeat: encode: %w", err)
	}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("heartbeat: encode: %w", err)
	}
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("heartbeat: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("heartbeat: encode: %w", err)
	}
	if buf.Len()+hexMACLen > MaxEnvelope {
		return nil, fmt.Errorf("heartbeat: encode: envelope of %d bytes exceeds %d", buf.Len()+hexMACLen, MaxEnvelope)
	}
	sum := mac(buf.Bytes(), key)
	out := make([]byte, buf.Len(), buf.Len()+hexMACLen)
	copy(out, buf.Bytes())
	return hex.AppendEncode(out, sum), nil
}

// Decode verifies and unwraps an envelope as Octavia's unwrap_envelope: the
// hex HMAC form first, then the raw 32-byte digest form older amphorae send.
// Both comparisons are constant-time. Unknown JSON keys are ignored.
func Decode(b []byte, key []byte) (Message, error) {
	if len(b) > MaxEnvelope {
		return Message{}, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxEnvelope)
	}
	payload, ok := verify(b, key)
	if !ok {
		if len(b) <= rawMACLen {
			return Message{}, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
		}
		return Message{}, ErrBadHMAC
	}
	zr, err := zlib.NewReader(bytes.NewReader(payload))
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	js, err := io.ReadAll(io.LimitReader(zr, MaxJSON+1))
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(js) > MaxJSON {
		return Message{}, fmt.Errorf("%w: JSON exceeds %d bytes", ErrMalformed, MaxJSON)
	}
	var m Message
	if err := json.Unmarshal(js, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.AmphoraID == "" {
		return Message{}, fmt.Errorf("%w: no amphora id", ErrMalformed)
	}
	return m, nil
}

// withEmptyMaps replaces nil maps with empty ones: Octavia's health manager
// iterates "listeners", "pools" and each pool's "members" and fails on null.
func withEmptyMaps(m Message) Message {
	if m.Listeners == nil {
		m.Listeners = map[string]Listener{}
	}
	pools := make(map[string]Pool, len(m.Pools))
	for k, p := range m.Pools {
		if p.Members == nil {
			p.Members = map[string]string{}
		}
		pools[k] = p
	}
	m.Pools = pools
	return m
}

// verify returns the payload of b when its trailing MAC (hex, else raw)
// matches.
func verify(b, key []byte) ([]byte, bool) {
	if len(b) > hexMACLen {
		payload, tag := b[:len(b)-hexMACLen], b[len(b)-hexMACLen:]
		want := hex.AppendEncode(nil, mac(payload, key))
		if hmac.Equal(tag, want) {
			return payload, true
		}
	}
	if len(b) > rawMACLen {
		payload, tag := b[:len(b)-rawMACLen], b[len(b)-rawMACLen:]
		if hmac.Equal(tag, mac(payload, key)) {
			return payload, true
		}
	}
	return nil, false
}

func mac(payload, key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(payload)
	return h.Sum(nil)
}
