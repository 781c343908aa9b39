package healthcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/http/healthcheck"
)

func TestAnswers(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name         string
		detailed     bool
		fail         error
		method       string
		accept       string
		wantCode     int
		wantBody     string // exact for text, substring otherwise
		wantType     string
		wantJSONKeys []string
	}{
		{name: "text ok", method: "GET", wantCode: 200, wantBody: "OK", wantType: "text/plain; charset=UTF-8"},
		{name: "text ok detailed", detailed: true, method: "GET", wantCode: 200, wantBody: "OK", wantType: "text/plain; charset=UTF-8"},
		{name: "text failed", fail: boom, method: "GET", wantCode: 503, wantBody: "The Octavia database is unavailable.", wantType: "text/plain; charset=UTF-8"},
		{name: "text failed detailed", detailed: true, fail: boom, method: "GET", wantCode: 503, wantBody: "The Octavia database is unavailable."},
		{name: "head ok", method: "HEAD", wantCode: 204},
		{name: "head failed", fail: boom, method: "HEAD", wantCode: 503},
		{name: "post", method: "POST", wantCode: 405},
		{name: "put", method: "PUT", wantCode: 405},
		{name: "delete", method: "DELETE", wantCode: 405},
		{name: "json ok", method: "GET", accept: "application/json", wantCode: 200, wantBody: `{"detailed":false,"reasons":["OK"]}`, wantType: "application/json"},
		{name: "json failed", fail: boom, method: "GET", accept: "application/json", wantCode: 503,
			wantBody: `{"detailed":false,"reasons":["The Octavia database is unavailable."]}`},
		{name: "json detailed failed", detailed: true, fail: boom, method: "GET", accept: "application/json", wantCode: 503,
			wantBody: `"details":"event store health check failed due to: boom."`, wantJSONKeys: []string{"detailed", "gc", "reasons", "now"}},
		{name: "html ok", method: "GET", accept: "text/html", wantCode: 200, wantBody: "<TD>OK</TD>", wantType: "text/html; charset=UTF-8"},
		{name: "html detailed failed", detailed: true, fail: boom, method: "GET", accept: "text/html", wantCode: 503, wantBody: "Garbage collector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthcheck.New(healthcheck.Config{Detailed: tc.detailed},
				healthcheck.Check{Name: "event store", Fn: func(context.Context) error { return tc.fail }},
				healthcheck.Check{Name: "read model", Fn: func(context.Context) error { return nil }})
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(tc.method, srv.URL+"/healthcheck", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := strings.TrimSpace(string(b))
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.wantCode, body)
			}
			if tc.wantType != "" && resp.Header.Get("Content-Type") != tc.wantType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.wantType)
			}
			switch {
			case tc.method == "HEAD" && body != "":
				t.Errorf("HEAD body %q", body)
			case tc.accept == "" && tc.wantBody != "" && body != tc.wantBody:
				t.Errorf("body %q, want %q", body, tc.wantBody)
			case !strings.Contains(body, tc.wantBody):
				t.Errorf("body %q, want it to contain %q", body, tc.wantBody)
			}
			if len(tc.wantJSONKeys) > 0 {
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				for _, k := range tc.wantJSONKeys {
					if _, ok := m[k]; !ok {
						t.Errorf("no %q in %s", k, body)
					}
				}
			}
		})
	}
}

// TestCachedForRefresh: within the refresh interval the checks do not run
// again (a failure shows once the interval passed).
func TestCachedForRefresh(t *testing.T) {
	var runs atomic.Int32
	var fail atomic.Bool
	h := healthcheck.New(healthcheck.Config{Refresh: 100 * time.Millisecond},
		healthcheck.Check{Name: "event store", Fn: func(context.Context) error {
			runs.Add(1)
			if fail.Load() {
				return errors.New("down")
			}
			return nil
		}})
	code := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthcheck", nil))
		return rec.Code
	}
	if c := code(); c != 200 {
		t.Fatalf("first: %d", c)
	}
	fail.Store(true)
	if c := code(); c != 200 || runs.Load() != 1 {
		t.Fatalf("within refresh: %d after %d runs, want the cached 200 after 1", c, runs.Load())
	}
	time.Sleep(120 * time.Millisecond)
	if c := code(); c != 503 || runs.Load() != 2 {
		t.Fatalf("after refresh: %d after %d runs, want 503 after 2", c, runs.Load())
	}
}
