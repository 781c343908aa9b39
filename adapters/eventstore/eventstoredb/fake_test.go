package eventstoredb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// fakeServer is an in-memory EventStoreDB as the store sees it through
// client: streams with revisions and optimistic concurrency, one $all log
// whose positions are byte offsets (gaps included, as the server's),
// catch-up subscriptions (exclusive start, server-side filter, checkpoints,
// caught-up notice, then live), and faults injected on demand.
type fakeServer struct {
	mu      sync.Mutex
	log     []*esdb.RecordedEvent
	streams map[string][]*esdb.RecordedEvent
	next    uint64        // log position of the next record
	changed chan struct{} // closed and replaced at every append

	// noise, when set, makes every append also write events of other
	// streams ($-system ones and another namespace's), as a shared server.
	noise []string

	faults     map[string][]error // by operation: errors the next calls return
	dropAfter  int                // a subscription drops (Unavailable) after this many deliveries, once
	readBackFn func([]*esdb.RecordedEvent) []*esdb.RecordedEvent

	maxCount   map[string]uint64 // $maxCount by stream
	allReads   int               // ReadAll calls
	allScanned int               // records ReadAll returned
	subOpts    []esdb.SubscribeToAllOptions
	dials      int
}

func newFakeServer() *fakeServer {
	return &fakeServer{streams: map[string][]*esdb.RecordedEvent{}, next: 4096, changed: make(chan struct{})}
}

// dial is a Store's dial: a new client of this server.
func (f *fakeServer) dial() (client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	return &fakeClient{srv: f}, nil
}

// fault makes the next call of op ("append", "readStream", "readAll",
// "subscribe") fail with err.
func (f *fakeServer) fault(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults = map[string][]error{}
	}
	f.faults[op] = append(f.faults[op], err)
}

func (f *fakeServer) takeFault(op string) error {
	if errs := f.faults[op]; len(errs) > 0 {
		f.faults[op] = errs[1:]
		return errs[0]
	}
	return nil
}

// fakeError is an error with an EventStoreDB error code, as *esdb.Error.
type fakeError struct {
	code esdb.ErrorCode
	msg  string
}

func (e *fakeError) Error() string        { return fmt.Sprintf("[fake code %d] %s", e.code, e.msg) }
func (e *fakeError) Code() esdb.ErrorCode { return e.code }

// write appends records to the log under f.mu; the caller signals.
func (f *fakeServer) write(stream string, evs []esdb.EventData) {
	cur := uint64(len(f.streams[stream]))
	for i, ev := range evs {
		r := &esdb.RecordedEvent{
			EventID:      ev.EventID,
			EventType:    ev.EventType,
			ContentType:  "application/json",
			StreamID:     stream,
			EventNumber:  cur + uint64(i),
			Position:     esdb.Position{Commit: f.next, Prepare: f.next},
			CreatedDate:  time.Now(),
			Data:         append([]byte(nil), ev.Data...),
			UserMetadata: append([]byte(nil), ev.Metadata...),
		}
		// A record's size: header, names, data, metadata.
		f.next += uint64(80 + len(stream) + len(ev.EventType) + len(ev.Data) + len(ev.Metadata))
		f.log = append(f.log, r)
		f.streams[stream] = append(f.streams[stream], r)
	}
}

func (f *fakeServer) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// foreign writes one event to stream (not through a store).
func (f *fakeServer) foreign(stream string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.write(stream, []esdb.EventData{{EventID: uuid.New(), EventType: "$noise", Data: []byte(`{}`)}})
	f.signal()
}

type fakeClient struct {
	srv    *fakeServer
	mu     sync.Mutex
	closed bool
}

func (c *fakeClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *fakeClient) enter(op string) error {
	if c.isClosed() {
		return &fakeError{code: esdb.ErrorCodeConnectionClosed, msg: "connection is closed"}
	}
	return c.srv.takeFault(op)
}

func (c *fakeClient) Append(ctx context.Context, stream string, expected esdb.ExpectedRevision, evs []esdb.EventData) (*esdb.WriteResult, error) {
	f := c.srv
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := c.enter("append"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cur := uint64(len(f.streams[stream]))
	ok := false
	switch e := expected.(type) {
	case esdb.Any:
		ok = true
	case esdb.NoStream:
		ok = cur == 0
	case esdb.StreamExists:
		ok = cur > 0
	case esdb.StreamRevision:
		ok = cur == e.Value+1
	}
	if !ok {
		return nil, &fakeError{code: esdb.ErrorCodeWrongExpectedVersion, msg: fmt.Sprintf("expected %T %v, stream has %d events", expected, expected, cur)}
	}
	f.write(stream, evs)
	for _, s := range f.noise {
		f.write(s, []esdb.EventData{{EventID: uuid.New(), EventType: "$noise", Data: []byte(`{"n":1}`)}})
	}
	f.signal()
	last := f.streams[stream][len(f.streams[stream])-1]
	return &esdb.WriteResult{CommitPosition: last.Position.Commit, PreparePosition: last.Position.Prepare,
		NextExpectedVersion: uint64(len(f.streams[stream])) - 1}, nil
}

func (c *fakeClient) ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) ([]*esdb.RecordedEvent, error) {
	f := c.srv
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := c.enter("readStream"); err != nil {
		return nil, err
	}
	recs, ok := f.streams[stream]
	if !ok {
		return nil, &fakeError{code: esdb.ErrorCodeResourceNotFound, msg: "stream '" + stream + "' is not found"}
	}
	var out []*esdb.RecordedEvent
	switch {
	case opts.Direction == esdb.Forwards:
		from, ok := opts.From.(esdb.StreamRevision)
		if !ok {
			return nil, fmt.Errorf("fake: forward stream read from %T", opts.From)
		}
		for _, r := range recs {
			if r.EventNumber >= from.Value && uint64(len(out)) < count {
				out = append(out, r)
			}
		}
	case opts.From == esdb.StreamPosition(esdb.End{}):
		for i := len(recs) - 1; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, recs[i])
		}
	default:
		return nil, fmt.Errorf("fake: backward stream read from %T", opts.From)
	}
	if f.readBackFn != nil {
		out = f.readBackFn(out)
	}
	return out, nil
}

// ReadAll reads backwards only (all the store does): from the end, or
// from a position, exclusive.
func (c *fakeClient) ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) ([]*esdb.RecordedEvent, error) {
	f := c.srv
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := c.enter("readAll"); err != nil {
		return nil, err
	}
	if opts.Direction != esdb.Backwards {
		return nil, errors.New("fake: forward $all read")
	}
	below := uint64(1<<64 - 1)
	switch from := opts.From.(type) {
	case esdb.End:
	case esdb.Position:
		below = from.Commit
	default:
		return nil, fmt.Errorf("fake: $all read from %T", opts.From)
	}
	f.allReads++
	var out []*esdb.RecordedEvent
	for i := len(f.log) - 1; i >= 0 && uint64(len(out)) < count; i-- {
		if r := f.log[i]; r.Position.Commit < below {
			out = append(out, r)
		}
	}
	f.allScanned += len(out)
	return out, nil
}

func (c *fakeClient) SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscription, error) {
	f := c.srv
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := c.enter("subscribe"); err != nil {
		return nil, err
	}
	f.subOpts = append(f.subOpts, opts)
	match, err := fakeFilter(opts.Filter)
	if err != nil {
		return nil, err
	}
	s := &fakeSub{srv: f, client: c, ctx: ctx, match: match}
	switch from := opts.From.(type) {
	case esdb.Start:
	case esdb.Position:
		for s.next < len(f.log) && f.log[s.next].Position.Commit <= from.Commit {
			s.next++
		}
	default:
		return nil, fmt.Errorf("fake: subscription from %T", opts.From)
	}
	return s, nil
}

func fakeFilter(flt *esdb.SubscriptionFilter) (func(stream string) bool, error) {
	switch {
	case flt == nil:
		return func(string) bool { return true }, nil
	case flt.Type != esdb.StreamFilterType:
		return nil, errors.New("fake: only stream filters")
	case len(flt.Prefixes) > 0 && flt.Regex != "":
		return nil, errors.New("fake: a filter may not have both prefixes and a regex")
	case flt.Regex != "":
		re, err := regexp.Compile(flt.Regex)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	case len(flt.Prefixes) > 0:
		return func(s string) bool {
			for _, p := range flt.Prefixes {
				if strings.HasPrefix(s, p) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, errors.New("fake: empty filter")
}

func (c *fakeClient) SetMaxCount(ctx context.Context, stream string, maxCount uint64) error {
	f := c.srv
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := c.enter("setMaxCount"); err != nil {
		return err
	}
	if f.maxCount == nil {
		f.maxCount = map[string]uint64{}
	}
	f.maxCount[stream] = maxCount
	return nil
}

func (c *fakeClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

type fakeSub struct {
	srv       *fakeServer
	client    *fakeClient
	ctx       context.Context
	match     func(string) bool
	next      int
	caughtUp  bool
	skipped   int
	delivered int

	mu     sync.Mutex
	closed bool
}

func dropped(err error) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: err}}
}

func (s *fakeSub) Recv() *esdb.SubscriptionEvent {
	f := s.srv
	for {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed || s.client.isClosed() {
			return dropped(errors.New("subscription has been dropped"))
		}
		if err := s.ctx.Err(); err != nil {
			return dropped(err)
		}
		f.mu.Lock()
		if f.dropAfter > 0 && s.delivered >= f.dropAfter {
			f.dropAfter = 0
			f.mu.Unlock()
			return dropped(&fakeError{code: esdb.ErrorUnavailable, msg: "server went away"})
		}
		if s.next < len(f.log) {
			r := f.log[s.next]
			s.next++
			f.mu.Unlock()
			if s.match(r.StreamID) {
				s.delivered++
				return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: r}}
			}
			// As the server, a checkpoint now and then while filtering.
			if s.skipped++; s.skipped%4 == 0 {
				return &esdb.SubscriptionEvent{CheckPointReached: &r.Position}
			}
			continue
		}
		if !s.caughtUp {
			s.caughtUp = true
			f.mu.Unlock()
			return &esdb.SubscriptionEvent{CaughtUp: &esdb.Subscription{}}
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-s.ctx.Done():
		case <-time.After(50 * time.Millisecond): // notice Close
		}
	}
}

func (s *fakeSub) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
