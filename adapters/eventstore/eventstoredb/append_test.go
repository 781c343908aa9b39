package eventstoredb

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

func TestAppendExpectedVersions(t *testing.T) {
	// The stream is at version 2 when each case runs.
	cases := []struct {
		expected int64
		ok       bool
	}{
		{eventstore.ExpectAny, true},
		{2, true},
		{eventstore.ExpectNoStream, false},
		{1, false},
		{3, false},
	}
	for _, c := range cases {
		srv := newFakeServer()
		s := openFake(t, srv)
		mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 2)
		got, err := s.Append(context.Background(), "loadbalancer-a", c.expected, envs(1))
		switch {
		case c.ok && (err != nil || len(got) != 1 || got[0].Version != 3):
			t.Errorf("expected %d: Append = %+v, %v; want version 3", c.expected, got, err)
		case !c.ok && !errors.Is(err, eventstore.ErrConcurrency):
			t.Errorf("expected %d: err = %v, want ErrConcurrency", c.expected, err)
		}
	}
}

func TestAppendEmptyBatchChecksTheVersion(t *testing.T) {
	cases := []struct {
		name     string
		existing int // events in the stream
		expected int64
		ok       bool
	}{
		{"any, no stream", 0, eventstore.ExpectAny, true},
		{"no stream, no stream", 0, eventstore.ExpectNoStream, true},
		{"version 1, no stream", 0, 1, false},
		{"right version", 2, 2, true},
		{"no stream, stream exists", 2, eventstore.ExpectNoStream, false},
		{"version ahead", 2, 3, false},
	}
	for _, c := range cases {
		srv := newFakeServer()
		s := openFake(t, srv)
		if c.existing > 0 {
			mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, c.existing)
		}
		before := len(srv.log)
		got, err := s.Append(context.Background(), "loadbalancer-a", c.expected, nil)
		if c.ok && (err != nil || got == nil || len(got) != 0) {
			t.Errorf("%s: Append(no events) = %v, %v; want none, nil", c.name, got, err)
		}
		if !c.ok && !errors.Is(err, eventstore.ErrConcurrency) {
			t.Errorf("%s: err = %v, want ErrConcurrency", c.name, err)
		}
		if len(srv.log) != before {
			t.Errorf("%s: an empty append wrote %d records", c.name, len(srv.log)-before)
		}
	}
}

func TestAppendReadBackMustFindTheEventsSent(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	srv.readBackFn = func(recs []*esdb.RecordedEvent) []*esdb.RecordedEvent {
		if len(recs) == 0 {
			return recs
		}
		other := *recs[0]
		other.EventID[0] ^= 0xff
		return append([]*esdb.RecordedEvent{&other}, recs[1:]...)
	}
	_, err := s.Append(context.Background(), "loadbalancer-a", eventstore.ExpectNoStream, envs(2))
	if err == nil || !strings.Contains(err.Error(), "succeeded") || errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("Append with another event read back = %v; want an error saying the append itself succeeded", err)
	}
}

func TestAppendReadBackShort(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	srv.readBackFn = func(recs []*esdb.RecordedEvent) []*esdb.RecordedEvent { return nil }
	if _, err := s.Append(context.Background(), "loadbalancer-a", eventstore.ExpectNoStream, envs(2)); err == nil {
		t.Fatal("Append whose events cannot be read back succeeded")
	}
}

func TestClientReplacedAfterItStopped(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	old := s.c.(*fakeClient)
	srv.fault("append", codeErr(esdb.ErrorCodeConnectionClosed))
	if _, err := s.Append(context.Background(), "loadbalancer-a", eventstore.ExpectAny, envs(1)); err == nil {
		t.Fatal("Append on a stopped client succeeded")
	}
	if srv.dials != 2 || !old.isClosed() || s.c == client(old) {
		t.Fatalf("after a closed-connection error: %d dials, old client closed %v; want a new client", srv.dials, old.isClosed())
	}
	if _, err := s.Append(context.Background(), "loadbalancer-a", eventstore.ExpectAny, envs(1)); err != nil {
		t.Fatalf("Append on the new client: %v", err)
	}
	// Other errors keep the client.
	srv.fault("append", codeErr(esdb.ErrorUnavailable))
	_, _ = s.Append(context.Background(), "loadbalancer-a", eventstore.ExpectAny, envs(1))
	if srv.dials != 2 {
		t.Errorf("an unavailable server replaced the client (%d dials)", srv.dials)
	}
}

func TestClosedStore(t *testing.T) {
	s := openFake(t, newFakeServer())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, "loadbalancer-a", eventstore.ExpectAny, envs(1)); !errors.Is(err, errClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := s.Head(ctx); !errors.Is(err, errClosed) {
		t.Errorf("Head after Close = %v", err)
	}
	if err := s.Subscribe(ctx, 0, newRecorder().handle); !errors.Is(err, errClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
}
