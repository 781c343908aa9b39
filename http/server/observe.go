package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Observer records API request latencies (metrics.Metrics does).
type Observer interface {
	ObserveHTTP(method, route string, code int, d time.Duration)
}

// unmatchedRoute labels requests no route matched (404, 405): their raw
// paths must not become label values.
const unmatchedRoute = "unmatched"

// observe times each request by the route pattern chi matched (read after
// the handler ran, when routing is done) and the status code answered.
func observe(o Observer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			defer func() {
				route := unmatchedRoute
				if rc := chi.RouteContext(r.Context()); rc != nil {
					if p := rc.RoutePattern(); p != "" && !isCatchAll(p) {
						route = p
					}
				}
				code := ww.Status()
				if code == 0 {
					code = http.StatusOK
				}
				o.ObserveHTTP(r.Method, route, code, time.Since(start))
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// isCatchAll: chi's NotFound/MethodNotAllowed leave the pattern of the
// subrouter mounted ("/v2/*"), which is no route of ours.
func isCatchAll(pattern string) bool { return strings.HasSuffix(pattern, "/*") }
