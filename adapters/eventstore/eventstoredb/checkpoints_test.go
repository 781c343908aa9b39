package eventstoredb

import (
	"context"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

func TestCheckpoints(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv, WithNamespace("ns-"))
	cp := s.Checkpoints()
	ctx := context.Background()
	if got, err := cp.Get(ctx, "forwarder"); err != nil || got != 0 {
		t.Fatalf("Get of an unsaved checkpoint = %d, %v; want 0", got, err)
	}
	ours := mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 1)[0]
	for _, pos := range []int64{ours.Position, 0, 90210} {
		if err := cp.Set(ctx, "forwarder", pos); err != nil {
			t.Fatal(err)
		}
		if got, err := cp.Get(ctx, "forwarder"); err != nil || got != pos {
			t.Fatalf("Get after Set(%d) = %d, %v", pos, got, err)
		}
	}
	if got, _ := cp.Get(ctx, "projector"); got != 0 {
		t.Errorf("another name reads %d", got)
	}
	if n := srv.maxCount["ns-octavia-checkpoint-forwarder"]; n != 1 {
		t.Errorf("$maxCount of the checkpoint stream = %d, want 1", n)
	}
	// The checkpoint stream is not one of the store's.
	all, err := s.ReadAll(ctx, 0, 10)
	if err != nil || len(all) != 1 {
		t.Errorf("ReadAll = %d events, %v; want only the appended one", len(all), err)
	}
	if h, _ := s.Head(ctx); h != ours.Position {
		t.Errorf("Head = %d, want %d", h, ours.Position)
	}
}

func TestCheckpointsRefuse(t *testing.T) {
	ctx := context.Background()
	s := openFake(t, newFakeServer())
	if err := s.Checkpoints().Set(ctx, "", 1); err == nil {
		t.Error("Set with no name succeeded")
	}
	if err := s.Checkpoints().Set(ctx, "x", -1); err == nil {
		t.Error("Set of a negative position succeeded")
	}
	// Without a prefix every stream of the namespace is the store's: a
	// checkpoint stream would show in $all.
	bare := openFake(t, newFakeServer(), WithNamespace("t-"), WithStreamPrefix(""))
	if err := bare.Checkpoints().Set(ctx, "forwarder", 1); err == nil {
		t.Error("Set on a store without a prefix succeeded")
	}
	if _, err := bare.Checkpoints().Get(ctx, "forwarder"); err == nil {
		t.Error("Get on a store without a prefix succeeded")
	}
}

func TestCheckpointsCapFailureIsRetried(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	cp := s.Checkpoints()
	srv.fault("setMaxCount", codeErr(esdb.ErrorCodeAccessDenied))
	if err := cp.Set(context.Background(), "f", 5); err == nil {
		t.Fatal("Set succeeded though $maxCount could not be set")
	}
	if err := cp.Set(context.Background(), "f", 5); err != nil {
		t.Fatalf("second Set: %v", err)
	}
	if got, err := cp.Get(context.Background(), "f"); err != nil || got != 5 {
		t.Errorf("Get = %d, %v; want 5", got, err)
	}
}
