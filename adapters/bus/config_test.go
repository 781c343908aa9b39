package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.setDefaults()
	want := Config{
		Transport: TransportGoChannel, Topic: Topic, ConsumerGroup: DefaultConsumerGroup, Concurrency: 16,
		MaxHandlingTime: 15 * time.Minute, RedeliveryDelay: time.Second, AckWait: 30 * time.Second,
		StreamMaxAge: 7 * 24 * time.Hour, Exchange: "octavia-es", PollInterval: 100 * time.Millisecond,
	}
	if c != want {
		t.Fatalf("defaults = %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.PoisonTopic() != Topic+".poison" {
		t.Fatalf("poison topic = %q", c.PoisonTopic())
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // in the error; "" = valid
	}{
		{"nats", func(c *Config) { c.Transport, c.URL = TransportNATS, "nats://127.0.0.1:4222" }, ""},
		{"amqp", func(c *Config) { c.Transport, c.URL = TransportAMQP, "amqp://guest:guest@127.0.0.1:5672/" }, ""},
		{"postgres", func(c *Config) { c.Transport, c.URL = TransportPostgres, "postgres://postgres@127.0.0.1/test" }, ""},
		{"unknown transport", func(c *Config) { c.Transport = "kafka" }, `transport "kafka"`},
		{"missing url", func(c *Config) { c.Transport = TransportNATS }, "url: required"},
		{"wrong scheme", func(c *Config) { c.Transport, c.URL = TransportAMQP, "nats://x:1" }, `scheme "nats"`},
		{"password redacted", func(c *Config) { c.Transport, c.URL = TransportNATS, "amqp://u:secret@h/" }, "u:xxxxx@h"},
		{"bad url", func(c *Config) { c.Transport, c.URL = TransportNATS, "nats://[::1" }, "url:"},
		{"topic with space", func(c *Config) { c.Topic = "a b" }, "topic"},
		{"topic with empty word", func(c *Config) { c.Topic = "a..b" }, "topic"},
		{"topic with wildcard", func(c *Config) { c.Topic = "a.>" }, "topic"},
		{"long topic on postgres", func(c *Config) {
			c.Transport, c.URL, c.Topic = TransportPostgres, "postgres://h/db", strings.Repeat("t", 41)
		}, "longer than 40"},
		{"group with dot", func(c *Config) { c.ConsumerGroup = "a.b" }, "consumer group"},
		{"concurrency", func(c *Config) { c.Concurrency = -1 }, "concurrency"},
		{"too much concurrency", func(c *Config) { c.Concurrency = 5000 }, "concurrency"},
		{"negative delay", func(c *Config) { c.RedeliveryDelay = -time.Second }, "redelivery delay"},
		{"short ack wait", func(c *Config) { c.AckWait = time.Millisecond }, "ack wait"},
		{"exchange", func(c *Config) { c.Exchange = "a b" }, "exchange"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			c.setDefaults()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate = %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want an error with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	if _, err := Open(context.Background(), Config{Transport: "kafka"}, quiet()); err == nil {
		t.Fatal("Open accepted an unknown transport")
	}
	b, err := Open(context.Background(), Config{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	if b.Topic() != Topic || b.PoisonTopic() != Topic+PoisonSuffix || b.Config().ConsumerGroup != DefaultConsumerGroup {
		t.Fatalf("bus config = %+v", b.Config())
	}
	if _, err := b.Subscriber("no spaces please"); err == nil {
		t.Fatal("Subscriber accepted an invalid group")
	}
	if err := b.Declare(context.Background(), Topic, "a.b"); err == nil {
		t.Fatal("Declare accepted an invalid group")
	}
	sub, err := b.Subscriber("")
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.Close()
}

func TestOpenUnreachableBrokerFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range []Config{
		{Transport: TransportNATS, URL: "nats://127.0.0.1:1"},
		{Transport: TransportAMQP, URL: "amqp://guest:guest@127.0.0.1:1/"},
		{Transport: TransportPostgres, URL: "postgres://postgres@127.0.0.1:1/test?connect_timeout=1"},
	} {
		if b, err := Open(ctx, c, quiet()); err == nil {
			_ = b.Close()
			t.Errorf("Open %s on a closed port succeeded", c.Transport)
		}
	}
}

func TestPoisonReasonIsOneBoundedLine(t *testing.T) {
	base := errors.New("boom")
	cases := []struct{ in, want string }{
		{"a\n\tb  c", "a b c"},
		{"nul\x00 byte\r\n", "nul byte"},
		{"bad utf8 \xff here", "bad utf8 ? here"},
	}
	for _, tc := range cases {
		r := reason{errors.Join(errors.New(tc.in), base)}
		if got := r.Error(); got != tc.want+" boom" {
			t.Errorf("reason(%q) = %q, want %q", tc.in, got, tc.want+" boom")
		}
		if !errors.Is(r, base) {
			t.Errorf("reason(%q) lost the wrapped error", tc.in)
		}
	}
	long := reason{errors.New(strings.Repeat("é", maxReason))}.Error()
	if len(long) > maxReason+len("…") || !strings.HasSuffix(long, "…") || strings.ContainsRune(long, '\uFFFD') {
		t.Fatalf("long reason: %d bytes, suffix %q", len(long), long[len(long)-6:])
	}
}

// fakeSubscriber hands out channels the test feeds.
type fakeSubscriber struct {
	chans  []chan *message.Message
	ctxs   []context.Context
	failAt int // Subscribe call (1-based) that fails
}

func (f *fakeSubscriber) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	if len(f.ctxs)+1 == f.failAt {
		return nil, errors.New("broker said no")
	}
	ch := make(chan *message.Message)
	f.chans = append(f.chans, ch)
	f.ctxs = append(f.ctxs, ctx)
	go func() { <-ctx.Done(); close(ch) }()
	return ch, nil
}

func (f *fakeSubscriber) Close() error { return nil }

func TestParallelMergesSubscriptions(t *testing.T) {
	inner := &fakeSubscriber{}
	ctx, cancel := context.WithCancel(context.Background())
	out, err := parallel{inner: inner, n: 3}.Subscribe(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(inner.chans) != 3 {
		t.Fatalf("%d inner subscriptions, want 3", len(inner.chans))
	}
	for i, ch := range inner.chans {
		go func() { ch <- message.NewMessage(string(rune('a'+i)), nil) }()
	}
	got := map[string]bool{}
	for range 3 {
		got[(<-out).UUID] = true
	}
	if len(got) != 3 {
		t.Fatalf("merged %v, want one message from each subscription", got)
	}
	cancel()
	if _, ok := <-out; ok {
		t.Fatal("merged channel delivered after the context ended")
	}

	failing := &fakeSubscriber{failAt: 2}
	if _, err := (parallel{inner: failing, n: 3}).Subscribe(context.Background(), "t"); err == nil {
		t.Fatal("a failed inner subscription was not reported")
	}
	if len(failing.ctxs) != 1 || failing.ctxs[0].Err() == nil {
		t.Fatal("the subscription made before the failure was not cancelled")
	}
}
