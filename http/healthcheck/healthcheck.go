// Package healthcheck answers /healthcheck as Octavia's API does with
// [api_settings] healthcheck_enabled (oslo.middleware's healthcheck with
// Octavia's database plugin): GET gives 200 "OK" or 503 with the reason,
// in text, JSON or HTML by Accept; HEAD gives 204 or 503; other methods 405.
// Results are cached for the refresh interval (healthcheck_refresh_interval),
// so a load balancer polling it does not load the stores.
package healthcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Octavia's reasons (OctaviaDBHealthcheck).
const (
	reasonOK          = "OK"
	reasonUnavailable = "The Octavia database is unavailable."
	// resultClass names the result in detailed reports, as Octavia's.
	resultClass = "OctaviaDBCheckResult"
)

// Check is one thing the process needs (the event store, the read model):
// nil when usable, else why not.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Config is the handler's configuration.
type Config struct {
	// Refresh: how long a result is reused (Octavia's default 5 s; 0 = every request).
	Refresh time.Duration
	// Detailed adds the details of a failure and runtime facts to JSON and
	// HTML answers (oslo's [healthcheck] detailed).
	Detailed bool
	// Timeout bounds one run of the checks (default 5 s).
	Timeout time.Duration
}

// Handler serves /healthcheck.
type Handler struct {
	cfg    Config
	checks []Check
	now    func() time.Time

	mu      sync.Mutex
	checked time.Time
	details string // "" when healthy
}

// New returns the handler running checks.
func New(cfg Config, checks ...Check) *Handler {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &Handler{cfg: cfg, checks: checks, now: time.Now}
}

// result runs the checks, or reuses the last result within the refresh
// interval. details is "" when every check passed.
func (h *Handler) result(ctx context.Context) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.checked.IsZero() && h.now().Sub(h.checked) < h.cfg.Refresh {
		return h.details
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.Timeout)
	defer cancel()
	var failed []string
	for _, c := range h.checks {
		if err := c.Fn(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s health check failed due to: %v.", c.Name, err))
		}
	}
	h.details = strings.Join(failed, " ")
	h.checked = h.now()
	return h.details
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	details := h.result(r.Context())
	healthy := details == ""
	code, reason := http.StatusOK, reasonOK
	if !healthy {
		code, reason = http.StatusServiceUnavailable, reasonUnavailable
	}
	if r.Method == http.MethodHead {
		if healthy {
			code = http.StatusNoContent
		}
		w.WriteHeader(code)
		return
	}
	switch accept := r.Header.Get("Accept"); {
	case strings.Contains(accept, "application/json"):
		h.writeJSON(w, code, reason, details)
	case strings.Contains(accept, "text/html"):
		h.writeHTML(w, code, reason, details)
	default:
		// oslo's text answer has only the reasons, detailed or not.
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(reason))
	}
}

func (h *Handler) writeJSON(w http.ResponseWriter, code int, reason, details string) {
	body := map[string]any{"detailed": h.cfg.Detailed, "reasons": []string{reason}}
	if h.cfg.Detailed {
		body["reasons"] = []map[string]string{{"class": resultClass, "details": details, "reason": reason}}
		body["now"] = h.now().String()
		body["platform"] = runtime.GOOS + "/" + runtime.GOARCH
		body["go_version"] = runtime.Version()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		body["gc"] = map[string]any{"counts": []uint32{ms.NumGC}, "threshold": []uint64{ms.NextGC}}
		body["threads"] = []string{fmt.Sprintf("%d goroutines", runtime.NumGoroutine())}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func (h *Handler) writeHTML(w http.ResponseWriter, code int, reason, details string) {
	var b strings.Builder
	b.WriteString("<HTML>\n<BODY>\n<H2>Healthcheck Status</H2>\n<H3>Result of 1 checks:</H3>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n")
	fmt.Fprintf(&b, "<TR>\n<TD>%s</TD>\n</TR>\n", html.EscapeString(reason))
	if h.cfg.Detailed {
		fmt.Fprintf(&b, "<TR>\n<TD>%s</TD>\n<TD>%s</TD>\n</TR>\n", resultClass, html.EscapeString(details))
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(&b, "</TBODY>\n</TABLE>\n<HR></HR>\n<H2>Garbage collector:</H2>\n<P>Collections: %d</P>\n", ms.NumGC)
	} else {
		b.WriteString("</TBODY>\n</TABLE>\n")
	}
	b.WriteString("</BODY>\n</HTML>\n")
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}
