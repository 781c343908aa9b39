package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/http/auth"
	"github.com/octavia-es/octavia-es/http/fault"
)

// requestID gives every request oslo's request id, answered in
// x-openstack-request-id (on errors too).
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "req-" + uuid.NewString()
		w.Header().Set("X-Openstack-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(auth.WithRequestID(r.Context(), id)))
	})
}

// recoverer turns a panic into Octavia's 500 without internals, and logs it.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "http: panic", "panic", p, "request_id", auth.RequestID(r.Context()),
						"stack", string(debug.Stack()))
					fault.Write(w, fault.New(http.StatusInternalServerError,
						"An unexpected error occurred while handling the request %s.", auth.RequestID(r.Context())))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// accessLog logs each request at debug level.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			next.ServeHTTP(ww, r)
			log.DebugContext(r.Context(), "http request", "method", r.Method, "path", r.URL.Path,
				"status", ww.Status(), "duration", time.Since(start), "request_id", auth.RequestID(r.Context()))
		})
	}
}
