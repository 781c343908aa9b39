package auth

import (
	"net/http"
	"strings"
)

// NoAuth is Octavia's auth_strategy = noauth: the project comes from
// X-Project-Id, else X-Tenant-Id, else X-Tenant (oslo.context's headers),
// else defaultProject ("" keeps Octavia's behaviour of knowing no project).
// Every caller is admin.
func NoAuth(defaultProject string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := Identity{
				ProjectID: firstHeader(r.Header, "X-Project-Id", "X-Tenant-Id", "X-Tenant"),
				UserID:    firstHeader(r.Header, "X-User-Id", "X-User"),
				Roles:     splitRoles(r.Header.Get("X-Roles")),
				IsAdmin:   true,
				RequestID: RequestID(r.Context()),
			}
			if id.ProjectID == "" {
				id.ProjectID = defaultProject
			}
			next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
		})
	}
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

func splitRoles(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}
