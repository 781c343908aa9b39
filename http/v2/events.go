package v2

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections/history"
)

// The event history API (docs/events-api.md): a load balancer's events,
// the admin's global feed, as_of reads and the SSE stream. They read the
// event store itself, not the read model: history is there, and so is a
// deleted load balancer's audit trail.

// EventStore is the event store as the history endpoints read it;
// eventstore.Store satisfies it.
type EventStore interface {
	history.Store
	Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error
	Head(ctx context.Context) (int64, error)
}

// EventsConfig tunes the event endpoints. Zero values take the defaults.
type EventsConfig struct {
	// Heartbeat is how often an idle SSE stream sends a comment, so that
	// proxies keep it open (default 15 s).
	Heartbeat time.Duration
	// Buffer is how many events may wait for one SSE subscriber
	// (default 256).
	Buffer int
	// StallTimeout is how long a subscriber's full buffer, or one write to
	// it, may wait before the subscriber is cut (default 10 s).
	StallTimeout time.Duration
}

func (c *EventsConfig) setDefaults() {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Buffer <= 0 {
		c.Buffer = 256
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 10 * time.Second
	}
}

// eventHistory is what the event endpoints share.
type eventHistory struct {
	store  EventStore
	reg    *events.Registry
	reader *history.Reader
	cfg    EventsConfig
	// shutdown ends the streams (nil: never).
	shutdown <-chan struct{}
	// hub feeds every stream from one store subscription.
	hub *history.Hub
}

// newEventHistory returns nil (the endpoints then answer 404) when there
// is no store to read: deps.History, else deps.Events when it is one (the
// stores are).
func newEventHistory(cfg EventsConfig, deps Deps) *eventHistory {
	store := deps.History
	if store == nil {
		store, _ = deps.Events.(EventStore)
	}
	if store == nil {
		return nil
	}
	reg := deps.Registry
	if reg == nil {
		reg = events.NewRegistry()
	}
	cfg.setDefaults()
	reader := history.NewReader(store, reg)
	return &eventHistory{store: store, reg: reg, reader: reader, cfg: cfg, shutdown: deps.Shutdown,
		hub: history.NewHub(store, reader, 0, deps.Logger)}
}

// withHistory answers 404, as an unknown path, when no store is wired.
func (a *API) withHistory(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.history == nil {
			fault.Write(w, fault.NewPecan(http.StatusNotFound, ""))
			return
		}
		h(w, r)
	}
}

// Query parameters of the event lists.
const (
	paramType          = "type"
	paramChangesSince  = "changes-since"
	paramChangesBefore = "changes-before"
	paramLoadBalancer  = "loadbalancer_id"
	paramProject       = "project_id"
)

// eventQuery is a parsed event list request.
type eventQuery struct {
	req    history.PageRequest
	fields []string
	params url.Values
}

// parseEventQuery reads limit, marker (a position), page_reverse, fields,
// type (repeatable, comma separated, "family.*"), changes-since and
// changes-before (RFC 3339, inclusive), and the extra filters allowed.
func (a *API) parseEventQuery(r *http.Request, extra ...string) (eventQuery, *fault.Error) {
	allowed := append([]string{"limit", "marker", "page_reverse", "fields", paramType, paramChangesSince, paramChangesBefore}, extra...)
	if ferr := checkParams(r, allowed...); ferr != nil {
		return eventQuery{}, ferr
	}
	params, _ := url.ParseQuery(r.URL.RawQuery)
	last := func(k string) string {
		if vs := params[k]; len(vs) > 0 {
			return vs[len(vs)-1]
		}
		return ""
	}
	q := eventQuery{params: params}
	q.req.Limit = a.cfg.PaginationMaxLimit
	if raw, ok := params["limit"]; ok && len(raw) > 0 {
		n, err := parseLimit(raw[len(raw)-1])
		if err != nil {
			return q, fault.NewPecan(http.StatusBadRequest, "Supplied pagination limit '%s' is not valid.", raw[len(raw)-1])
		}
		if n > 0 && n < q.req.Limit {
			q.req.Limit = n
		}
	}
	if m := last("marker"); m != "" {
		pos, err := strconv.ParseInt(m, 10, 64)
		if err != nil || pos < 1 {
			return q, fault.BadRequest("Supplied pagination marker '%s' is not valid.", m)
		}
		q.req.Marker = pos
	}
	q.req.Reverse = last("page_reverse") == "True"
	if vs, ok := params["fields"]; ok {
		q.fields = append([]string{}, vs...)
	}
	var ferr *fault.Error
	if q.req.Types, ferr = a.eventTypes(params[paramType]); ferr != nil {
		return q, ferr
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{paramChangesSince, &q.req.Since}, {paramChangesBefore, &q.req.Before}} {
		if v := last(p.name); v != "" {
			t, err := history.ParseTime(v)
			if err != nil {
				return q, badParam(p.name, v, "Expected an RFC 3339 time.")
			}
			*p.dst = t
		}
	}
	q.req.LoadBalancerID = last(paramLoadBalancer)
	q.req.ProjectID = last(paramProject)
	return q, nil
}

// eventTypes splits and checks the type filter.
func (a *API) eventTypes(vs []string) ([]string, *fault.Error) {
	var types []string
	for _, v := range splitTags(vs) {
		if v = strings.TrimSpace(v); v != "" {
			types = append(types, v)
		}
	}
	if err := history.CheckTypes(a.history.reg, types); err != nil {
		return nil, fault.BadRequest("Invalid input for field/attribute type. Value: '%s'. %s.",
			strings.Join(types, ","), upperFirst(err.Error()))
	}
	return types, nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// badParam is wsme's InvalidInput faultstring for a query parameter.
func badParam(name, value, msg string) *fault.Error {
	return fault.BadRequest("Invalid input for field/attribute %s. Value: '%s'. %s", name, value, msg)
}

// loadBalancerEvents is GET /v2/lbaas/loadbalancers/{id}/events: RBAC as
// the load balancer's GET; a deleted load balancer's events stay readable.
func (a *API) loadBalancerEvents(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	q, ferr := a.parseEventQuery(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	page, project, err := a.history.reader.LoadBalancer(ctx, id, q.req)
	if errors.Is(err, history.ErrNotFound) {
		fault.Write(w, fault.NotFound(resLoadBalancer, id))
		return
	}
	if err != nil {
		fault.Write(w, a.internal(ctx, "read load balancer events", err))
		return
	}
	if ferr := a.visible(ctx, project); ferr != nil {
		fault.Write(w, ferr)
		return
	}
	a.writeEvents(w, r, q, page)
}

// globalEvents is GET /v2/octavia/events (admin only): every event in
// position order, filtered by load balancer and project too.
func (a *API) globalEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, ferr := a.parseEventQuery(r, paramLoadBalancer, paramProject)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	page, err := a.history.reader.Feed(ctx, q.req)
	if err != nil {
		fault.Write(w, a.internal(ctx, "read events", err))
		return
	}
	a.writeEvents(w, r, q, page)
}

// writeEvents answers {"events": [...], "events_links": [...]}.
func (a *API) writeEvents(w http.ResponseWriter, r *http.Request, q eventQuery, page history.Page) {
	items := make([]any, 0, len(page.Items))
	for _, it := range page.Items {
		v, err := selectFields(it, q.fields)
		if err != nil {
			fault.Write(w, a.internal(r.Context(), "render events", err))
			return
		}
		items = append(items, v)
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"events": items, "events_links": a.eventLinks(r, q, page)})
}

// eventLinks are Octavia's pagination links, with two differences: the
// markers are positions, and the filters are carried along (Octavia drops
// them, so its next link lists a different collection).
func (a *API) eventLinks(r *http.Request, q eventQuery, page history.Page) []link {
	out := []link{}
	base := a.pathURL(r) + "?limit=" + strconv.Itoa(q.req.Limit)
	var carried strings.Builder
	for _, k := range []string{paramType, paramChangesSince, paramChangesBefore, paramLoadBalancer, paramProject, "fields"} {
		for _, v := range q.params[k] {
			carried.WriteString("&" + url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	if page.PrevMarker > 0 {
		out = append(out, link{Rel: "previous",
			Href: base + carried.String() + "&marker=" + strconv.FormatInt(page.PrevMarker, 10) + "&page_reverse=True"})
	}
	if page.NextMarker > 0 {
		out = append(out, link{Rel: "next", Href: base + carried.String() + "&marker=" + strconv.FormatInt(page.NextMarker, 10)})
	}
	return out
}
