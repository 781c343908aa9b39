package v2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/http/auth"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections/history"
)

// errSlowConsumer ends a subscription whose client stopped reading.
var errSlowConsumer = errors.New("slow consumer")

// streamError is the data of the final "event: error" of a stream.
type streamError struct {
	Error       string `json:"error"` // slow_consumer, shutdown, internal
	Message     string `json:"message"`
	LastEventID int64  `json:"last_event_id"` // the last position delivered: resume after it
}

// eventStream is GET /v2/lbaas/events/stream: Server-Sent Events, one per
// stored event (id: the global position, event: the type, data: the item
// of the event lists). It starts after Last-Event-ID, else at ?from= (a
// position, inclusive), else at the head (new events only); the store's
// catch-up subscription makes a resumed stream gap- and duplicate-free.
// A caller that is not admin sees its own project's events only.
//
// Each subscriber has its own bounded buffer, filled from the hub (one
// store subscription for all of them): a client slower than the events
// only lags (behind the hub's ring it reads the store), while one that
// stops reading for StallTimeout is cut with a final "event: error" naming
// the last position it received.
func (a *API) eventStream(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	filter, after, ferr := a.parseStream(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	cfg := a.history.cfg
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	out := sseWriter{w: w, rc: http.NewResponseController(w), timeout: cfg.StallTimeout}
	// An id-only message: a client that reconnects before any event came
	// resumes from here (EventSource keeps the id as its Last-Event-ID).
	if out.write(fmt.Appendf(nil, "retry: 3000\nid: %d\n\n", after)) != nil {
		return
	}

	sctx, cancel := context.WithCancel(ctx)
	frames := make(chan sseFrame, cfg.Buffer)
	done := make(chan error, 1)
	go func() { done <- a.feedStream(sctx, filter, after, frames) }()
	finished := false
	defer func() {
		cancel()
		if !finished {
			<-done
		}
	}()

	heartbeat := time.NewTicker(cfg.Heartbeat)
	defer heartbeat.Stop()
	last := after
	for {
		select {
		case f := <-frames:
			if out.write(f.data) != nil {
				return
			}
			last = f.position
		case <-heartbeat.C:
			if out.write([]byte(": heartbeat\n\n")) != nil {
				return
			}
		case err := <-done:
			finished = true
			if ctx.Err() != nil {
				return
			}
			e := streamError{Error: "internal", LastEventID: last,
				Message: fmt.Sprintf("An unexpected error occurred while handling the request %s.", auth.RequestID(ctx))}
			if errors.Is(err, errSlowConsumer) {
				e.Error = "slow_consumer"
				e.Message = fmt.Sprintf("The client did not read the stream for %s with %d events waiting: "+
					"the stream is closed. Reconnect with Last-Event-ID: %d to resume.", cfg.StallTimeout, cfg.Buffer, last)
			} else {
				a.log.ErrorContext(ctx, "v2: event stream", "err", err, "request_id", auth.RequestID(ctx))
			}
			data, _ := json.Marshal(e)
			_ = out.write(fmt.Appendf(nil, "event: error\ndata: %s\n\n", data))
			return
		case <-a.history.shutdown:
			data, _ := json.Marshal(streamError{Error: "shutdown", LastEventID: last,
				Message: fmt.Sprintf("The server is shutting down. Reconnect with Last-Event-ID: %d to resume.", last)})
			_ = out.write(fmt.Appendf(nil, "event: error\ndata: %s\n\n", data))
			return
		case <-ctx.Done():
			return
		}
	}
}

// sseFrame is one encoded event.
type sseFrame struct {
	position int64
	data     []byte
}

// feedStream follows the events after position after that filter selects
// (through the hub: one store subscription for every stream) and queues
// their frames; it waits up to StallTimeout for room, then gives up with
// errSlowConsumer.
func (a *API) feedStream(ctx context.Context, filter history.Filter, after int64, frames chan<- sseFrame) error {
	h := a.history
	stall := time.NewTimer(h.cfg.StallTimeout)
	defer stall.Stop()
	return h.hub.Follow(ctx, filter, after, func(e history.Entry) error {
		f := sseFrame{position: e.Position,
			data: fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", e.Position, e.Type, e.JSON)}
		select {
		case frames <- f:
			return nil
		default:
		}
		stall.Reset(h.cfg.StallTimeout)
		select {
		case frames <- f:
			return nil
		case <-stall.C:
			return errSlowConsumer
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// parseStream reads the stream's filters and starting point.
func (a *API) parseStream(r *http.Request) (history.Filter, int64, *fault.Error) {
	ctx := r.Context()
	var f history.Filter
	if ferr := checkParams(r, paramLoadBalancer, paramProject, paramType, "from"); ferr != nil {
		return f, 0, ferr
	}
	params, _ := url.ParseQuery(r.URL.RawQuery)
	last := func(k string) string {
		if vs := params[k]; len(vs) > 0 {
			return vs[len(vs)-1]
		}
		return ""
	}
	var ferr *fault.Error
	if f.Types, ferr = a.eventTypes(params[paramType]); ferr != nil {
		return f, 0, ferr
	}
	caller := identity(ctx)
	f.ProjectID = last(paramProject)
	if !caller.IsAdmin {
		// An empty project would filter nothing out.
		if caller.ProjectID == "" || f.ProjectID != "" && f.ProjectID != caller.ProjectID {
			return f, 0, forbidden()
		}
		f.ProjectID = caller.ProjectID
	}
	if f.LoadBalancerID = last(paramLoadBalancer); f.LoadBalancerID != "" {
		project, err := a.history.reader.ProjectOf(ctx, f.LoadBalancerID)
		if errors.Is(err, history.ErrNotFound) {
			return f, 0, fault.NotFound(resLoadBalancer, f.LoadBalancerID)
		}
		if err != nil {
			return f, 0, a.internal(ctx, "read load balancer project", err)
		}
		if ferr := a.visible(ctx, project); ferr != nil {
			return f, 0, ferr
		}
	}

	if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" {
		pos, err := strconv.ParseInt(id, 10, 64)
		if err != nil || pos < 0 {
			return f, 0, badParam("Last-Event-ID", id, "Expected a position (an integer).")
		}
		return f, pos, nil
	}
	if from := last("from"); from != "" {
		pos, err := strconv.ParseInt(from, 10, 64)
		if err != nil || pos < 0 {
			return f, 0, badParam("from", from, "Expected a position (an integer).")
		}
		return f, max(pos-1, 0), nil
	}
	head, err := a.events.Head(ctx)
	if err != nil {
		return f, 0, a.internal(ctx, "read event store head", err)
	}
	return f, head, nil
}

// sseWriter writes and flushes each frame within a deadline, so a client
// that stopped reading cannot hold the handler forever.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (s sseWriter) write(b []byte) error {
	// Not every ResponseWriter has deadlines (test recorders); the stall
	// timer still bounds what waits for such a client.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
