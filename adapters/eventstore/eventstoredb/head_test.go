package eventstoredb

import (
	"context"
	"fmt"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

func mustHead(t *testing.T, s *Store) int64 {
	t.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHeadBelowOtherStreams(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv) // pages of 2, then 3
	if h := mustHead(t, s); h != 0 {
		t.Fatalf("Head of an empty server = %d", h)
	}
	for i := range 4 {
		srv.foreign(fmt.Sprintf("other-%d", i))
	}
	if h := mustHead(t, s); h != 0 {
		t.Fatalf("Head with only other streams' events = %d, want 0", h)
	}
	ours := mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 2)[1].Position
	for i := range 10 {
		srv.foreign(fmt.Sprintf("$stats-%d", i))
	}
	if h := mustHead(t, s); h != ours {
		t.Fatalf("Head = %d, want %d under 10 other events", h, ours)
	}

	// The next scan stops where this one started: it reads the 5 new
	// records (and at most one page more), not the 10 old ones again.
	for i := range 5 {
		srv.foreign(fmt.Sprintf("other-x-%d", i))
	}
	scanned := srv.allScanned
	if h := mustHead(t, s); h != ours {
		t.Fatalf("Head = %d, want %d", h, ours)
	}
	if n := srv.allScanned - scanned; n < 5 || n > 5+int(s.headPage) {
		t.Errorf("second Head read %d records of $all, want 5 to %d", n, 5+s.headPage)
	}
	newer := mustAppend(t, s, "loadbalancer-b", eventstore.ExpectNoStream, 1)[0].Position
	if h := mustHead(t, s); h != newer {
		t.Errorf("Head after another append = %d, want %d", h, newer)
	}
}

func TestHeadCacheOnlyMovesForward(t *testing.T) {
	var c headCache
	c.update(100, 500)
	c.update(50, 400) // an older scan finishing late
	if h, top := c.get(); h != 100 || top != 500 {
		t.Errorf("cache (%d, %d) after an older scan, want (100, 500)", h, top)
	}
	c.update(90, 600) // nothing newer of ours up to 600: the head stays
	if h, top := c.get(); h != 100 || top != 600 {
		t.Errorf("cache (%d, %d), want (100, 600)", h, top)
	}
}
