package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/bus"
	buspg "github.com/octavia-es/octavia-es/adapters/bus/postgres"
	"github.com/octavia-es/octavia-es/adapters/eventstore"
	espg "github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
	"github.com/octavia-es/octavia-es/events"
)

func throwaway() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func fastLease(d, name string) *buspg.Lease {
	l := buspg.NewLease(d, name, quiet())
	l.RetryInterval, l.CheckInterval, l.CheckTimeout = 50*time.Millisecond, 100*time.Millisecond, time.Second
	return l
}

// holderPID is the backend holding the lease's advisory lock (0: none).
func holderPID(t *testing.T, d, name string) int32 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pid int32
	err = conn.QueryRow(ctx, `SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND classid::bigint = ($1::bigint >> 32) & 4294967295 AND objid::bigint = $1::bigint & 4294967295`,
		buspg.LeaseKey(name)).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func terminate(t *testing.T, d string, pid int32) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
}

type grant struct {
	lost    <-chan struct{}
	release func()
	err     error
}

func acquireAsync(l *buspg.Lease, ctx context.Context) <-chan grant {
	ch := make(chan grant, 1)
	go func() {
		lost, release, err := l.Acquire(ctx)
		ch <- grant{lost, release, err}
	}()
	return ch
}

func TestLeaseOneHolderAtATime(t *testing.T) {
	d, name := pgtest.Require(t), throwaway()
	a, b := fastLease(d, name), fastLease(d, name)
	lostA, releaseA, err := a.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	if _, _, err := b.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Acquire while held = %v, want to wait until its context ends", err)
	}
	waiting := acquireAsync(b, context.Background())
	select {
	case g := <-waiting:
		t.Fatalf("second holder acquired while the first holds: %v", g.err)
	case <-time.After(200 * time.Millisecond):
	}
	releaseA()
	releaseA() // idempotent
	select {
	case <-lostA:
		t.Fatal("released lease reported lost")
	default:
	}
	select {
	case g := <-waiting:
		if g.err != nil {
			t.Fatal(g.err)
		}
		g.release()
	case <-time.After(3 * time.Second):
		t.Fatal("the lease was released but the waiter did not get it")
	}
}

func TestLeaseTakeoverWhenHolderConnectionDies(t *testing.T) {
	d, name := pgtest.Require(t), throwaway()
	a, b := fastLease(d, name), fastLease(d, name)
	lostA, releaseA, err := a.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	waiting := acquireAsync(b, context.Background())
	pid := holderPID(t, d, name)
	if pid == 0 {
		t.Fatal("no backend holds the advisory lock of an acquired lease")
	}
	terminate(t, d, pid)
	select {
	case <-lostA:
	case <-time.After(3 * time.Second):
		t.Fatal("holder not told its lease was lost after its connection was terminated")
	}
	select {
	case g := <-waiting:
		if g.err != nil {
			t.Fatal(g.err)
		}
		defer g.release()
		if now := holderPID(t, d, name); now == 0 || now == pid {
			t.Fatalf("after takeover the lock is held by backend %d (old %d)", now, pid)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the waiter did not take over the lease of a dead holder")
	}
}

func TestLeaseUnreachableDatabaseWaits(t *testing.T) {
	l := buspg.NewLease("postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", "x", quiet())
	l.RetryInterval = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on an unreachable database = %v, want to keep trying until the context ends", err)
	}
	bad := buspg.NewLease("::not a dsn::", "x", quiet())
	if _, _, err := bad.Acquire(context.Background()); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with a bad DSN = %v, want an error at once", err)
	}
}

// recorder is a publisher that records the positions it was given, by
// forwarder.
type recorder struct {
	mu   sync.Mutex
	seen map[int64]int
	by   map[string]int
}

type tagged struct {
	r   *recorder
	tag string
}

func (p tagged) Publish(_ string, msgs ...*message.Message) error {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	for _, m := range msgs {
		pos, err := strconv.ParseInt(m.Metadata.Get(bus.MetadataPosition), 10, 64)
		if err != nil {
			return err
		}
		p.r.seen[pos]++
		p.r.by[p.tag]++
	}
	return nil
}

func (p tagged) Close() error { return nil }

func (r *recorder) covered(n int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pos := int64(1); pos <= n; pos++ {
		if r.seen[pos] == 0 {
			return false
		}
	}
	return true
}

// TestForwarderWithLeaseResumesWithoutLoss runs two forwarders on one
// PostgreSQL event store, each behind its own lease (two processes), while
// events are appended; the holder's lease connection is terminated midway.
// Every event must be published (duplicates allowed) and the checkpoint
// must reach the head.
func TestForwarderWithLeaseResumesWithoutLoss(t *testing.T) {
	d := pgtest.Require(t)
	schema := pgtest.Schema(t, d, "bus_test_")
	ctx := context.Background()
	store, err := espg.Open(ctx, d, espg.WithSchema(schema), espg.WithMigrate(), espg.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	name := "forwarder-" + throwaway()
	rec := &recorder{seen: map[int64]int{}, by: map[string]int{}}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, tag := range []string{"a", "b"} {
		f := bus.NewForwarder(store, store.Checkpoints(), tagged{rec, tag}, "t", quiet())
		f.FlushEvery, f.FlushInterval, f.RetryDelay = 10, 10*time.Millisecond, 50*time.Millisecond
		wg.Go(func() {
			if err := f.RunWithLease(runCtx, fastLease(d, name)); err != nil {
				t.Errorf("forwarder %s: %v", tag, err)
			}
		})
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	const batches, per = 30, 10
	appended := make(chan error, 1)
	go func() {
		for i := range batches {
			evs := make([]events.Envelope, per)
			for j := range evs {
				evs[j] = events.Envelope{Type: "test.happened", SchemaVersion: 1, Data: json.RawMessage(`{}`)}
			}
			if _, err := store.Append(ctx, fmt.Sprintf("loadbalancer-%d", i), eventstore.ExpectNoStream, evs); err != nil {
				appended <- err
				return
			}
			time.Sleep(15 * time.Millisecond)
		}
		appended <- nil
	}()

	deadline := time.Now().Add(10 * time.Second)
	for !rec.covered(60) {
		if time.Now().After(deadline) {
			t.Fatal("the first 60 events were not forwarded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pid := holderPID(t, d, name)
	if pid == 0 {
		t.Fatal("nobody holds the forwarder's lease while events are forwarded")
	}
	terminate(t, d, pid)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	const total = batches * per
	for !rec.covered(total) {
		if time.Now().After(deadline) {
			t.Fatalf("not every event forwarded after the holder lost its lease")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cp := store.Checkpoints()
	for {
		pos, err := cp.Get(ctx, bus.CheckpointName)
		if err != nil {
			t.Fatal(err)
		}
		if pos == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint = %d, want %d", pos, total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if after := holderPID(t, d, name); after == 0 || after == pid {
		t.Fatalf("lease holder after the kill = backend %d (killed %d)", after, pid)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	dups := 0
	for pos := int64(1); pos <= total; pos++ {
		dups += rec.seen[pos] - 1
	}
	t.Logf("published by forwarder %v; %d republished after the takeover", rec.by, dups)
	if dups > total/2 {
		t.Errorf("%d of %d events published twice: the takeover did not resume from the checkpoint", dups, total)
	}
}
