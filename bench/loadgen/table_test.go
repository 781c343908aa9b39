package main

import "testing"

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtCount(0), "0"},
		{fmtCount(999), "999"},
		{fmtCount(1000), "1,000"},
		{fmtCount(10000), "10,000"},
		{fmtCount(1234567), "1,234,567"},
		{fmtMs(0.1234), "0.12"},
		{fmtMs(51), "51.0"},
		{fmtMs(1060), "1060"},
		{fmtRatio(1060, 4), "265×"},
		{fmtRatio(3, 2), "1.5×"},
		{fmtRatio(1, 4), "0.25×"},
		{fmtRatio(1, 0), "-"},
		{aim("p50", 5, 20), "p50 < 20 ms: met"},
		{aim("p99", 25, 20), "p99 < 20 ms: NOT met"},
		{aim("p99", 0, 20), "p99 < 20 ms: not measured"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestIsLoopbackURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:9876", true},
		{"http://127.0.0.2:80", true},
		{"http://localhost:9876", true},
		{"http://[::1]:9876", true},
		{"http://10.0.0.1:9876", false},
		{"http://192.168.1.5", false},
		{"http://example.com", false},
		{"ftp://127.0.0.1", false},
		{"::bad", false},
	}
	for _, tc := range tests {
		if got := isLoopbackURL(tc.url); got != tc.want {
			t.Errorf("isLoopbackURL(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}
