package fault

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriteShapes(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"client", NotFound("Load Balancer", "x"),
			`{"faultcode":"Client","faultstring":"Load Balancer x not found.","debuginfo":null}`},
		{"validation", Validation("Cannot delete Load Balancer %s - it has children", "x"),
			`{"faultcode":"Client","faultstring":"Validation failure: Cannot delete Load Balancer x - it has children","debuginfo":null}`},
		{"server", New(http.StatusServiceUnavailable, "busy"),
			`{"faultcode":"Server","faultstring":"busy","debuginfo":null}`},
		{"pecan", NewPecan(http.StatusBadRequest, "Supplied pagination limit '%s' is not valid.", "a"),
			`{"code":400,"title":"Bad Request","description":"Supplied pagination limit 'a' is not valid."}`},
		{"no html escaping", BadRequest("Unknown argument: \"<a&b>\""),
			`{"faultcode":"Client","faultstring":"Unknown argument: \"<a&b>\"","debuginfo":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tt.err)
			if rec.Code != tt.err.Status {
				t.Errorf("status = %d, want %d", rec.Code, tt.err.Status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type = %q", ct)
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(tt.want), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Errorf("body = %s, want %s", gb, wb)
			}
			if tt.name == "no html escaping" && !strings.Contains(rec.Body.String(), "<a&b>") {
				t.Errorf("html escaped: %s", rec.Body.String())
			}
		})
	}
}

func TestWriteExtraHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	e := New(http.StatusServiceUnavailable, "later")
	e.Header = http.Header{"Retry-After": {"1"}}
	Write(rec, e)
	if rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
}
