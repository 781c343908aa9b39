package loadbalancer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// mergePatch overlays p onto cur: cur is marshalled to its JSON object,
// every key of p except those in fixed replaces the attribute (JSON null
// clears it: nil pointer, nil slice, zero value), and the object is
// unmarshalled into a fresh T. Keys in fixed (ids, parents, attributes
// Octavia does not let a PUT change) keep their current value.
func mergePatch[T any](cur T, p Patch, fixed ...string) (T, error) {
	var zero T
	raw, err := json.Marshal(cur)
	if err != nil {
		return zero, fmt.Errorf("marshal current spec: %w", err)
	}
	obj := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return zero, fmt.Errorf("unmarshal current spec: %w", err)
	}
	for k, v := range p {
		if slices.Contains(fixed, k) {
			continue
		}
		obj[k] = rawOrNull(v)
	}
	merged, err := json.Marshal(obj)
	if err != nil {
		return zero, patchError(p, err)
	}
	var out T
	if err := json.Unmarshal(merged, &out); err != nil {
		return zero, patchError(p, err)
	}
	return out, nil
}

// rawOrNull treats an empty value as JSON null, so a hand-built Patch
// cannot break marshalling.
func rawOrNull(v json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(v)) == 0 {
		return json.RawMessage("null")
	}
	return v
}

// patchError turns a JSON type mismatch into a 400 naming the attribute,
// as wsme does; the HTTP layer normally refuses these first.
func patchError(p Patch, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return refuse(Invalid, "Invalid input for field/attribute %s. Value: '%s'. Wrong type.",
			te.Field, string(rawOrNull(p[te.Field])))
	}
	return refuse(Invalid, "Invalid input: %v", err)
}

// has reports whether the patch names key.
func (p Patch) has(key string) bool {
	_, ok := p[key]
	return ok
}

// isNull reports whether the patch sets key to JSON null.
func (p Patch) isNull(key string) bool {
	v, ok := p[key]
	return ok && string(bytes.TrimSpace(rawOrNull(v))) == "null"
}

// str reads a string attribute of the patch: ok is false when the key is
// absent, null or not a string.
func (p Patch) str(key string) (string, bool) {
	v, ok := p[key]
	if !ok {
		return "", false
	}
	var s *string
	if json.Unmarshal(v, &s) != nil || s == nil {
		return "", false
	}
	return *s, true
}

// truthy reports whether key is present with a value Python would take as
// true (non-empty string, list or object, non-zero number, true).
func (p Patch) truthy(key string) bool {
	v, ok := p[key]
	if !ok {
		return false
	}
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false
	}
	switch t := x.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return false
}

// objectKeys returns the keys of the JSON object in key, in document
// order (Octavia's messages list them as the client sent them).
func (p Patch) objectKeys(key string) []string {
	v, ok := p[key]
	if !ok {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}
