package auth

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestNoAuthProjectResolution(t *testing.T) {
	tests := []struct {
		name           string
		headers        map[string]string
		defaultProject string
		want           string
	}{
		{"project id wins", map[string]string{"X-Project-Id": "p1", "X-Tenant-Id": "t1", "X-Tenant": "t2"}, "d", "p1"},
		{"tenant id next", map[string]string{"X-Tenant-Id": "t1", "X-Tenant": "t2"}, "d", "t1"},
		{"tenant last", map[string]string{"X-Tenant": "t2"}, "d", "t2"},
		{"default when none", nil, "d", "d"},
		{"none and no default", nil, "", ""},
		{"blank header ignored", map[string]string{"X-Project-Id": "  ", "X-Tenant": "t2"}, "", "t2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Identity
			var ok bool
			h := NoAuth(tt.defaultProject)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, ok = FromContext(r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			req = req.WithContext(WithRequestID(req.Context(), "req-1"))
			req.Header.Set("X-Roles", "admin, member,")
			h.ServeHTTP(httptest.NewRecorder(), req)
			if !ok {
				t.Fatal("no identity in context")
			}
			if got.ProjectID != tt.want {
				t.Errorf("project = %q, want %q", got.ProjectID, tt.want)
			}
			if !got.IsAdmin {
				t.Error("noauth caller is not admin")
			}
			if got.RequestID != "req-1" {
				t.Errorf("request id = %q", got.RequestID)
			}
			if !reflect.DeepEqual(got.Roles, []string{"admin", "member"}) {
				t.Errorf("roles = %q", got.Roles)
			}
		})
	}
}

func TestFromContextWithoutMiddleware(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if _, ok := FromContext(req.Context()); ok {
		t.Fatal("identity found without middleware")
	}
	if RequestID(req.Context()) != "" {
		t.Fatal("request id found without middleware")
	}
}
