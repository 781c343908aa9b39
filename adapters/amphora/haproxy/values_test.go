package haproxy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestQuoteArg(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/healthz", "/healthz"},
		{"/a?b=1&c=2", "/a?b=1&c=2"},
		{"/a#b", "'/a#b'"},
		{"/$HOME", "'/$HOME'"},
		{`/back\slash`, `'/back\slash'`},
		{"/it's", `'/it'\''s'`},
		{`/"q"`, `'/"q"'`},
		{"/a b", "'/a b'"},
		{"/é", "'/é'"},
	}
	for _, tt := range tests {
		got, err := quoteArg(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("quoteArg(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "/a\nb", "/a\x00", "/a\x7f", "/a\tb"} {
		if _, err := quoteArg(bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("quoteArg(%q) = %v, want ErrInvalidConfig", bad, err)
		}
	}
}

func TestExpectedCodes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"200", []string{"200"}},
		{"200-204", []string{"200", "201", "202", "203", "204"}},
		{"302, 200,301", []string{"200", "301", "302"}},
		{"200,200-201", []string{"200", "201"}},
	}
	for _, tt := range tests {
		got, err := expectedCodes(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("expectedCodes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", ",", "2000", "20", "abc", "200-", "-200", "600", "201-200", "200-204-209x"} {
		if got, err := expectedCodes(bad); err == nil {
			t.Errorf("expectedCodes(%q) = %v, want an error", bad, got)
		}
	}
}

// PeerName is Octavia's base64_sha1_string (altchars "_-", no padding).
func TestPeerName(t *testing.T) {
	for in, want := range map[string]string{
		ampID(): "sjFNIYlFdr9Tr7Qu5ywOhtxck3g",
		"a":     "hvfkN-qlp-zhXR3cuerq6jd2Z7g",
		"b":     "6dcfXufJLW3J6S-9rRe4vUlBj5g",
	} {
		if got := PeerName(in); got != want {
			t.Errorf("PeerName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	name := BackendName(poolID(1), listenerID(2))
	p, l, ok := ParseBackendName(name)
	if !ok || p != poolID(1) || l != listenerID(2) {
		t.Errorf("ParseBackendName(%q) = %q, %q, %v", name, p, l, ok)
	}
	if _, _, ok := ParseBackendName("stats"); ok {
		t.Error("ParseBackendName(stats) ok")
	}
	if FrontendName("x") != "x" || ServerName("y") != "y" {
		t.Error("frontend and server names are the ids")
	}
}

func TestSupported(t *testing.T) {
	if got := SupportedListenerProtocols(); !slices.Equal(got, []string{"HTTP", "HTTPS", "PROMETHEUS", "TCP", "TERMINATED_HTTPS"}) {
		t.Errorf("listener protocols = %v", got)
	}
	if got := SupportedPoolProtocols(); !slices.Equal(got, []string{"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"}) {
		t.Errorf("pool protocols = %v", got)
	}
	if got := SupportedAlgorithms(); !slices.Equal(got, []string{"LEAST_CONNECTIONS", "ROUND_ROBIN", "SOURCE_IP"}) {
		t.Errorf("algorithms = %v", got)
	}
	for _, typ := range SupportedHealthMonitorTypes() {
		if strings.Contains(typ, "UDP") || typ == "SCTP" {
			t.Errorf("monitor type %s listed", typ)
		}
	}
	if s := string(PingWrapperScript()); !strings.HasPrefix(s, "#!/bin/sh") || !strings.Contains(s, "HAPROXY_SERVER_ADDR") {
		t.Errorf("ping wrapper: %q", s)
	}
}
