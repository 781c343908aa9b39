package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/octavia-es/octavia-es/events"
)

// Topic is the topic every stored event is published on.
const Topic = "octavia-es.events"

// RouterConfig configures NewRouter. Zero fields take the defaults.
type RouterConfig struct {
	// Retries of a failed handler before the message is given up: sent to
	// the poison queue when Poison is set, else logged at ERROR and acked.
	// Default 5.
	Retries int
	// Backoff between retries: doubles from RetryInitialInterval up to
	// RetryMaxInterval. Defaults 100 ms and 5 s.
	RetryInitialInterval time.Duration
	RetryMaxInterval     time.Duration
	// CloseTimeout bounds how long Close waits for running handlers.
	// Default 30 s.
	CloseTimeout time.Duration
	// Poison, when set, receives the messages given up, on
	// "<topic>.poison" with the failure reason in metadata
	// (Bus.Publisher()).
	Poison message.Publisher
}

func (c *RouterConfig) setDefaults() {
	if c.Retries == 0 {
		c.Retries = 5
	}
	if c.RetryInitialInterval == 0 {
		c.RetryInitialInterval = 100 * time.Millisecond
	}
	if c.RetryMaxInterval == 0 {
		c.RetryMaxInterval = 5 * time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
}

// Validate reports every invalid field.
func (c RouterConfig) Validate() error {
	var errs []error
	if c.Retries < 0 {
		errs = append(errs, fmt.Errorf("retries %d < 0", c.Retries))
	}
	if c.RetryInitialInterval < 0 || c.RetryMaxInterval < c.RetryInitialInterval {
		errs = append(errs, fmt.Errorf("retry intervals %s..%s", c.RetryInitialInterval, c.RetryMaxInterval))
	}
	if c.CloseTimeout < 0 {
		errs = append(errs, fmt.Errorf("close timeout %s < 0", c.CloseTimeout))
	}
	return errors.Join(errs...)
}

// Logger adapts slog for watermill; watermill's INFO chatter (handler
// start, "no subscribers") goes to DEBUG.
func Logger(log *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}

// NewGoChannel returns the embedded in-process bus: not persistent,
// non-blocking publish (see the package comment for why).
func NewGoChannel(log *slog.Logger) *gochannel.GoChannel {
	return gochannel.NewGoChannel(gochannel.Config{
		Persistent:                     false,
		BlockPublishUntilSubscriberAck: false,
	}, Logger(log))
}

// NewRouter returns a router whose handlers run inside, outermost first:
// CorrelationID, the poison queue (or give-up: log and ack) after the last
// retry, Retry with exponential backoff, Recoverer (a panic becomes an
// error to retry).
func NewRouter(cfg RouterConfig, log *slog.Logger) (*message.Router, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bus: router config: %w", err)
	}
	wlog := Logger(log)
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("bus: router: %w", err)
	}
	last := giveUp(log)
	if cfg.Poison != nil {
		last = poisonQueue(cfg.Poison, log)
	}
	r.AddMiddleware(
		middleware.CorrelationID,
		last,
		middleware.Retry{
			MaxRetries:      cfg.Retries,
			InitialInterval: cfg.RetryInitialInterval,
			MaxInterval:     cfg.RetryMaxInterval,
			Multiplier:      2,
			Logger:          wlog,
		}.Middleware,
		middleware.Recoverer,
	)
	return r, nil
}

// giveUp acks a message whose handler still fails after every retry, and
// logs it at ERROR with what identifies the event. Without it GoChannel
// would redeliver the nacked message at once, forever. A message cut short
// by shutdown is nacked quietly: the work is resumed at start-up.
func giveUp(log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			if msg.Context().Err() != nil && errors.Is(err, context.Canceled) {
				return nil, err
			}
			logFailure(log, msg, err, "bus: handler failed after retries; message given up")
			return nil, nil
		}
	}
}

// EnvelopeHandler adapts a function of envelopes to a router handler
// (router.AddConsumerHandler). A payload that is no envelope is logged and
// dropped: retrying cannot fix it.
func EnvelopeHandler(handle func(context.Context, events.Envelope) error, log *slog.Logger) message.NoPublishHandlerFunc {
	if log == nil {
		log = slog.Default()
	}
	return func(msg *message.Message) error {
		env, err := DecodeMessage(msg)
		if err != nil {
			log.Error("bus: dropping a message that is not an event envelope", "message_uuid", msg.UUID, "error", err)
			return nil
		}
		if err := handle(msg.Context(), env); err != nil {
			return fmt.Errorf("%s on %s at position %d: %w", env.Type, env.Stream, env.Position, err)
		}
		return nil
	}
}
