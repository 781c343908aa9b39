package v2

import (
	"encoding/json"
	"math"
	"testing"
)

func TestPyFloatRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"}, {1.1, "1.1"}, {0.5, "0.5"}, {-2.25, "-2.25"}, {0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{1e16, "1e+16"}, {1.5e16, "1.5e+16"}, {1e15, "1000000000000000.0"}, {123456789.5, "123456789.5"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.25e-7, "1.25e-07"}, {1e300, "1e+300"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	}
	for _, tt := range tests {
		if got := pyFloatRepr(tt.in); got != tt.want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPyRepr(t *testing.T) {
	doc, err := parseJSON([]byte(`{"b": [1, 2.50, "x", null, true], "a": {"k": "it's"}, "c": "say \"hi\"", "b": "dup"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {"abc", "'abc'"}, {"it's", `"it's"`},
		{`both ' and "`, `'both \' and "'`}, {"tab\tnl\n\x01é", `'tab\tnl\n\x01é'`}, {"back\\slash", `'back\\slash'`},
		{json.Number("-0"), "0"}, {json.Number("12"), "12"}, {json.Number("1e2"), "100.0"},
		{[]any{json.Number("1"), "a", nil}, "[1, 'a', None]"},
		// duplicate key: last value, first position
		{doc, `{'b': 'dup', 'a': {'k': "it's"}, 'c': 'say "hi"'}`},
	}
	for _, tt := range tests {
		if got := pyRepr(tt.in); got != tt.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if pyStr("plain") != "plain" || pyStr([]any{"a"}) != "['a']" {
		t.Errorf("pyStr: %q %q", pyStr("plain"), pyStr([]any{"a"}))
	}
}

func TestParseJSONRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":1}x`, `{"a":1}{}`, `NaN`, `{'a':1}`, `[1,]`} {
		if _, err := parseJSON([]byte(in)); err == nil {
			t.Errorf("parseJSON(%q) accepted", in)
		}
	}
	if v, err := parseJSON([]byte(" [1, {\"a\": null}] \n")); err != nil || pyRepr(v) != "[1, {'a': None}]" {
		t.Errorf("parseJSON = %v, %v", pyRepr(v), err)
	}
}
