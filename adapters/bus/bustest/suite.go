// Package bustest is the conformance suite every bus transport passes:
// at least once, each consumer group gets every message, the subscribers
// of one group share its messages, redelivery after a nack and after a
// subscriber dies, retries then the poison queue. Order is not tested: no
// transport keeps it across a group's subscribers.
package bustest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/octavia-es/octavia-es/adapters/bus"
	"github.com/octavia-es/octavia-es/events"
)

// Opener opens a bus for one test on a throwaway topic (and exchange,
// stream or tables), removed when the test ends. cfg carries the suite's
// tuning; the opener sets Transport, URL, Topic and Exchange.
type Opener func(t *testing.T, cfg bus.Config) *bus.Bus

// Caps are what a transport promises beyond the common contract.
type Caps struct {
	// Durable: messages published for a declared group before it
	// subscribes are kept, and a subscriber that dies without acking
	// leaves its message to the group's other subscribers.
	Durable bool
}

// Groups are the consumer groups the suite subscribes in (besides
// bus.DefaultConsumerGroup and bus.PoisonGroup), for cleanup.
var Groups = []string{"alpha", "beta", "workers", "nackers", "survivors", "retriers", "poisoners", "late", "slow", "busy"}

// Timeout bounds every wait of the suite.
var Timeout = 20 * time.Second

// Run runs the suite.
func Run(t *testing.T, open Opener, caps Caps) {
	tests := []struct {
		name    string
		durable bool
		run     func(*testing.T, Opener)
	}{
		{"EachGroupGetsEveryMessage", false, testEachGroupGetsEvery},
		{"GroupMembersShareMessages", false, testGroupMembersShare},
		{"RedeliveryAfterNack", false, testRedeliveryAfterNack},
		{"RetryThenSuccess", false, testRetryThenSuccess},
		{"PoisonAfterRetries", false, testPoisonAfterRetries},
		{"SlowHandlerNotRedelivered", false, testSlowHandler},
		{"BusyMemberDoesNotHoldMessagesBack", false, testBusyMember},
		{"RedeliveryAfterSubscriberDies", true, testRedeliveryAfterSubscriberDies},
		{"DeclaredGroupKeepsEarlierMessages", true, testDeclaredGroupKeeps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.durable && !caps.Durable {
				t.Skip("transport is not durable")
			}
			tc.run(t, open)
		})
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Config is the suite's tuning: small, fast intervals.
func Config() bus.Config {
	return bus.Config{
		Concurrency:     2,
		RedeliveryDelay: 50 * time.Millisecond,
		AckWait:         time.Second,
		MaxHandlingTime: time.Minute,
		PollInterval:    20 * time.Millisecond,
	}
}

// envelope i of a test run, with a fresh id.
func envelope(i int) events.Envelope {
	return events.Envelope{
		ID: watermill.NewUUID(), Stream: events.StreamFor(fmt.Sprintf("lb-%d", i%5)), Version: int64(i),
		Position: int64(i), Type: "loadbalancer.create_requested", SchemaVersion: 1,
		Time:          time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		CorrelationID: fmt.Sprintf("corr-%d", i), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
	}
}

func publish(t *testing.T, b *bus.Bus, topic string, n int) map[string]events.Envelope {
	t.Helper()
	sent := map[string]events.Envelope{}
	for i := 1; i <= n; i++ {
		env := envelope(i)
		msg, err := bus.NewMessage(env)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publisher().Publish(topic, msg); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		sent[env.ID] = env
	}
	return sent
}

// recorder counts deliveries by message id and by member.
type recorder struct {
	mu       sync.Mutex
	byID     map[string]int
	byMember map[string]int
	envs     map[string]events.Envelope
	msgs     map[string]*message.Message
}

func newRecorder() *recorder {
	return &recorder{byID: map[string]int{}, byMember: map[string]int{}, envs: map[string]events.Envelope{}, msgs: map[string]*message.Message{}}
}

func (r *recorder) add(member string, msg *message.Message, env events.Envelope) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[msg.UUID]++
	r.byMember[member]++
	r.envs[msg.UUID] = env
	r.msgs[msg.UUID] = msg.Copy()
}

func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.byID {
		n += c
	}
	return n
}

// runRouter runs a router with one handler on topic in group, as one
// process would, until the test ends.
func runRouter(t *testing.T, b *bus.Bus, cfg bus.RouterConfig, group, topic string, handle func(context.Context, events.Envelope) error) {
	t.Helper()
	sub, err := b.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	r, err := bus.NewRouter(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	r.AddConsumerHandler("test."+group, topic, sub, bus.EnvelopeHandler(handle, quiet()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("router %s: %v", group, err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = r.Close()
		<-done
		_ = sub.Close()
	})
	select {
	case <-r.Running():
	case <-done:
		t.Fatalf("router %s stopped before running", group)
	case <-time.After(Timeout):
		t.Fatalf("router %s not running after %s", group, Timeout)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", Timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits a little for deliveries that should not come.
func settle() { time.Sleep(300 * time.Millisecond) }

func testEachGroupGetsEvery(t *testing.T, open Opener) {
	b := open(t, Config())
	groups := []string{"alpha", "beta"}
	recs := map[string]*recorder{}
	for _, g := range groups {
		rec := newRecorder()
		recs[g] = rec
		runRouter(t, b, bus.RouterConfig{}, g, b.Topic(), func(ctx context.Context, env events.Envelope) error {
			rec.add(g, message.NewMessage(env.ID, nil), env)
			return nil
		})
	}
	const n = 40
	sent := publish(t, b, b.Topic(), n)
	for _, g := range groups {
		rec := recs[g]
		waitFor(t, fmt.Sprintf("group %s to get %d messages", g, n), func() bool { return rec.distinct() == n })
	}
	settle()
	for _, g := range groups {
		rec := recs[g]
		if got := rec.total(); got != n {
			t.Errorf("group %s: %d deliveries of %d messages, want each once in a clean run", g, got, n)
		}
		for id, want := range sent {
			got, ok := rec.envs[id]
			if !ok {
				t.Fatalf("group %s never got %s", g, id)
			}
			if got.ID != want.ID || got.Stream != want.Stream || got.Position != want.Position || got.Type != want.Type ||
				got.CorrelationID != want.CorrelationID || string(got.Data) != string(want.Data) || !got.Time.Equal(want.Time) {
				t.Fatalf("group %s: envelope %s arrived as %+v, want %+v", g, id, got, want)
			}
		}
	}
}

func testGroupMembersShare(t *testing.T, open Opener) {
	b := open(t, Config())
	rec := newRecorder()
	const members, n = 3, 60
	for m := range members {
		member := fmt.Sprintf("member-%d", m)
		runRouter(t, b, bus.RouterConfig{}, "workers", b.Topic(), func(ctx context.Context, env events.Envelope) error {
			rec.add(member, message.NewMessage(env.ID, nil), env)
			time.Sleep(10 * time.Millisecond) // a busy member leaves work to the others
			return nil
		})
	}
	publish(t, b, b.Topic(), n)
	waitFor(t, fmt.Sprintf("%d messages in the group", n), func() bool { return rec.distinct() == n })
	settle()
	if got := rec.total(); got != n {
		t.Errorf("%d deliveries of %d messages to one group, want each once (members share, not copy)", got, n)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	busy := 0
	for _, c := range rec.byMember {
		if c > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("deliveries by member = %v: the group's work was not shared", rec.byMember)
	}
}

// receive returns the next delivery or fails.
func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(Timeout):
		t.Fatalf("no delivery within %s", Timeout)
	}
	return nil
}

func subscribe(t *testing.T, b *bus.Bus, group, topic string) (message.Subscriber, <-chan *message.Message) {
	t.Helper()
	sub, err := b.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = sub.Close()
	})
	return sub, ch
}

func testRedeliveryAfterNack(t *testing.T, open Opener) {
	b := open(t, Config())
	_, ch := subscribe(t, b, "nackers", b.Topic())
	sent := publish(t, b, b.Topic(), 1)
	first := receive(t, ch)
	if _, ok := sent[first.UUID]; !ok {
		t.Fatalf("delivered %s, not the published message", first.UUID)
	}
	first.Nack()
	again := receive(t, ch)
	if again.UUID != first.UUID || string(again.Payload) != string(first.Payload) {
		t.Fatalf("after a nack got %s, want %s again", again.UUID, first.UUID)
	}
	again.Ack()
	select {
	case m := <-ch:
		t.Fatalf("acked message delivered once more: %s", m.UUID)
	case <-time.After(500 * time.Millisecond):
	}
}

func testRedeliveryAfterSubscriberDies(t *testing.T, open Opener) {
	b := open(t, Config())
	if err := b.Declare(context.Background(), b.Topic(), "survivors"); err != nil {
		t.Fatal(err)
	}
	dying, ch := subscribe(t, b, "survivors", b.Topic())
	sent := publish(t, b, b.Topic(), 1)
	got := receive(t, ch)
	if _, ok := sent[got.UUID]; !ok {
		t.Fatalf("delivered %s, not the published message", got.UUID)
	}
	// Dies holding the message: never acks.
	closed := make(chan error, 1)
	go func() { closed <- dying.Close() }()
	_, ch2 := subscribe(t, b, "survivors", b.Topic())
	again := receive(t, ch2)
	if again.UUID != got.UUID {
		t.Fatalf("the survivor got %s, want the dead subscriber's %s", again.UUID, got.UUID)
	}
	again.Ack()
	select {
	case <-closed:
	case <-time.After(Timeout):
		t.Fatal("the dying subscriber's Close did not return")
	}
}

func testRetryThenSuccess(t *testing.T, open Opener) {
	b := open(t, Config())
	var mu sync.Mutex
	calls := 0
	runRouter(t, b, bus.RouterConfig{Retries: 3, RetryInitialInterval: 5 * time.Millisecond, RetryMaxInterval: 20 * time.Millisecond, Poison: b.Publisher()},
		"retriers", b.Topic(), func(context.Context, events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls < 3 {
				return errors.New("store busy")
			}
			return nil
		})
	_, poisoned := subscribe(t, b, bus.PoisonGroup, b.PoisonTopic())
	publish(t, b, b.Topic(), 1)
	waitFor(t, "three attempts", func() bool { mu.Lock(); defer mu.Unlock(); return calls == 3 })
	settle()
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Fatalf("handler called %d times, want 3 (two failures, one success)", calls)
	}
	select {
	case m := <-poisoned:
		t.Fatalf("a message that succeeded on retry was poisoned: %s %v", m.UUID, m.Metadata)
	default:
	}
}

func testPoisonAfterRetries(t *testing.T, open Opener) {
	b := open(t, Config())
	_, poisoned := subscribe(t, b, bus.PoisonGroup, b.PoisonTopic())
	var mu sync.Mutex
	calls := map[string]int{}
	runRouter(t, b, bus.RouterConfig{Retries: 2, RetryInitialInterval: 5 * time.Millisecond, RetryMaxInterval: 20 * time.Millisecond, Poison: b.Publisher()},
		"poisoners", b.Topic(), func(_ context.Context, env events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			calls[env.ID]++
			if env.Position == 1 {
				return errors.New("driver exploded\n\tat step boot_amphora")
			}
			return nil
		})
	sent := publish(t, b, b.Topic(), 2)
	var bad events.Envelope
	for _, env := range sent {
		if env.Position == 1 {
			bad = env
		}
	}
	p := receive(t, poisoned)
	p.Ack()
	if p.UUID != bad.ID {
		t.Fatalf("poisoned %s, want %s (the failing one)", p.UUID, bad.ID)
	}
	if env, err := bus.DecodeMessage(p); err != nil || env.ID != bad.ID || string(env.Data) != string(bad.Data) {
		t.Fatalf("poisoned payload decodes to %+v (%v), want the original envelope", env, err)
	}
	if r := p.Metadata.Get(middleware.ReasonForPoisonedKey); !strings.Contains(r, "driver exploded at step boot_amphora") || strings.ContainsAny(r, "\n\t") {
		t.Fatalf("reason_poisoned = %q, want the error on one line", r)
	}
	if tp := p.Metadata.Get(middleware.PoisonedTopicKey); tp != b.Topic() {
		t.Fatalf("topic_poisoned = %q, want %q", tp, b.Topic())
	}
	if p.Metadata.Get(bus.MetadataPosition) != "1" || middleware.MessageCorrelationID(p) != bad.CorrelationID {
		t.Fatalf("poisoned metadata lost the event's: %v", p.Metadata)
	}
	settle()
	mu.Lock()
	defer mu.Unlock()
	if c := calls[bad.ID]; c != 3 {
		t.Fatalf("failing handler called %d times, want 3 (1 + 2 retries, then poisoned and acked)", c)
	}
	for id, env := range sent {
		if env.Position == 2 && calls[id] != 1 {
			t.Fatalf("the good message was handled %d times, want 1", calls[id])
		}
	}
	select {
	case m := <-poisoned:
		t.Fatalf("second poison message %s", m.UUID)
	default:
	}
}

func testDeclaredGroupKeeps(t *testing.T, open Opener) {
	b := open(t, Config())
	if err := b.Declare(context.Background(), b.Topic(), "late"); err != nil {
		t.Fatal(err)
	}
	sent := publish(t, b, b.Topic(), 5)
	_, ch := subscribe(t, b, "late", b.Topic())
	got := map[string]bool{}
	for len(got) < len(sent) {
		m := receive(t, ch)
		if _, ok := sent[m.UUID]; !ok {
			t.Fatalf("delivered %s, not a published message", m.UUID)
		}
		got[m.UUID] = true
		m.Ack()
	}
}

// testSlowHandler: a handler running longer than the transport's ack
// deadline (Config's AckWait) is not given the message a second time.
func testSlowHandler(t *testing.T, open Opener) {
	cfg := Config()
	b := open(t, cfg)
	rec := newRecorder()
	runRouter(t, b, bus.RouterConfig{}, "slow", b.Topic(), func(ctx context.Context, env events.Envelope) error {
		rec.add("slow", message.NewMessage(env.ID, nil), env)
		select {
		case <-time.After(cfg.AckWait*5/2 + 100*time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	publish(t, b, b.Topic(), 1)
	waitFor(t, "the delivery", func() bool { return rec.distinct() == 1 })
	time.Sleep(cfg.AckWait*3 + 200*time.Millisecond)
	if n := rec.total(); n != 1 {
		t.Fatalf("a handler slower than the ack deadline got its message %d times, want once", n)
	}
}

// testBusyMember: a member of a group stuck in a long handler must not
// hold back the group's other messages (a broker that pushed them to it
// in advance would make them wait, and past the ack deadline, deliver
// them twice). With one handler each, the idle member handles all but
// the message the busy one handles and at most one it has buffered.
func testBusyMember(t *testing.T, open Opener) {
	cfg := Config()
	cfg.Concurrency = 1
	b := open(t, cfg)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	busy, idle := newRecorder(), newRecorder()
	runRouter(t, b, bus.RouterConfig{}, "busy", b.Topic(), func(ctx context.Context, env events.Envelope) error {
		busy.add("busy", message.NewMessage(env.ID, nil), env)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	const n = 10
	waitFor(t, "the busy member to hold a message", func() bool {
		if busy.distinct() > 0 {
			return true
		}
		publish(t, b, b.Topic(), 1)
		time.Sleep(50 * time.Millisecond)
		return busy.distinct() > 0
	})
	runRouter(t, b, bus.RouterConfig{}, "busy", b.Topic(), func(ctx context.Context, env events.Envelope) error {
		idle.add("idle", message.NewMessage(env.ID, nil), env)
		return nil
	})
	waitFor(t, "the idle member to be served", func() bool {
		if idle.distinct() > 0 {
			return true
		}
		publish(t, b, b.Topic(), 1)
		time.Sleep(50 * time.Millisecond)
		return idle.distinct() > 0
	})
	before := idle.distinct()
	publish(t, b, b.Topic(), n)
	// Well within the ack deadline: messages pushed to the busy member in
	// advance would only come back after it.
	deadline := time.Now().Add(cfg.AckWait * 3 / 4)
	for idle.distinct()-before < n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("the idle member handled %d of %d new messages within %s: the busy one holds them back",
				idle.distinct()-before, n, cfg.AckWait*3/4)
		}
		time.Sleep(5 * time.Millisecond)
	}
	once.Do(func() { close(release) })
}
