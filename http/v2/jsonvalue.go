package v2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Request bodies are parsed into plain values that keep what Python's json
// module would see, so validation errors can quote values exactly as
// Octavia (wsme) does: object key order, int versus float, and duplicate
// keys (the last value wins, at the first key's place).
//
// A value is one of: nil (null), bool, string, json.Number, []any, *object.

// object is a JSON object in key order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

var errInvalidJSON = errors.New("invalid JSON")

// parseJSON parses one JSON document.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errInvalidJSON // trailing data
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errInvalidJSON
				}
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			list := []any{}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return list, nil
		}
		return nil, errInvalidJSON
	default:
		return t, nil // nil, bool, string, json.Number
	}
}

// isIntNumber: Python's json gives an int for numbers without fraction or
// exponent, a float otherwise.
func isIntNumber(n json.Number) bool {
	return !bytes.ContainsAny([]byte(n), ".eE")
}

// toJSON turns a parsed (and normalized) value back into encodable Go data.
func toJSON(v any) any {
	switch x := v.(type) {
	case *object:
		m := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			m[k] = toJSON(x.vals[k])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	default:
		return v
	}
}
