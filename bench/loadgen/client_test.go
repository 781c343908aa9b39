package main

import (
	"strings"
	"testing"
)

func TestListCount(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		status   string
		n        int
		last     string
		errMatch string
	}{
		{"two", `{"loadbalancers":[{"id":"a","provisioning_status":"ACTIVE"},{"id":"b","provisioning_status":"ACTIVE"}]}`, "ACTIVE", 2, "b", ""},
		{"empty", `{"loadbalancers":[]}`, "ACTIVE", 0, "", ""},
		{"no filter, mixed", `{"loadbalancers":[{"id":"a","provisioning_status":"ERROR"}]}`, "", 1, "a", ""},
		{"filter ignored", `{"loadbalancers":[{"id":"a","provisioning_status":"PENDING_CREATE"}]}`, "ACTIVE", 0, "", "returned a PENDING_CREATE"},
		{"not json", `<html>`, "", 0, "", "decode list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, last, err := ListCount([]byte(tc.body), tc.status)
			if tc.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMatch) {
					t.Fatalf("err = %v, want %q", err, tc.errMatch)
				}
				return
			}
			if err != nil || n != tc.n || last != tc.last {
				t.Fatalf("got %d %q %v, want %d %q", n, last, err, tc.n, tc.last)
			}
		})
	}
}
