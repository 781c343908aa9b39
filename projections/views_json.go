package projections

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes http_version as Python does (1.0, not Go's 1): Octavia
// serialises the float with json.dumps, and clients compare the text.
func (v HealthMonitorView) MarshalJSON() ([]byte, error) {
	type plain HealthMonitorView // no methods: no recursion
	b, err := json.Marshal(plain(v))
	if err != nil {
		return nil, err
	}
	return pythonFloat(b, `,"http_version":`), nil
}

// pythonFloat appends ".0" to the integral number that follows key in the
// encoded object b. key starts with `,"`, a sequence that cannot occur inside
// an encoded JSON string (quotes there are escaped), so the match is the key.
func pythonFloat(b []byte, key string) []byte {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return b
	}
	start := i + len(key)
	end := start
	for end < len(b) && b[end] != ',' && b[end] != '}' {
		end++
	}
	num := b[start:end]
	if len(num) == 0 || bytes.Equal(num, []byte("null")) || bytes.ContainsAny(num, ".eE") {
		return b
	}
	out := make([]byte, 0, len(b)+2)
	out = append(out, b[:end]...)
	out = append(out, ".0"...)
	return append(out, b[end:]...)
}
