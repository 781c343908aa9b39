package bus

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// maxReason bounds the failure reason kept in a poisoned message's
// metadata (a broker header).
const maxReason = 2000

// poisonQueue publishes a message whose handler still fails after the
// retries on "<subscribed topic>.poison" (watermill's PoisonQueue: the
// reason in metadata reason_poisoned, with topic_poisoned,
// handler_poisoned, subscriber_poisoned), acks it and logs it at ERROR.
// If that publish fails the message is nacked, to be delivered again. A
// message whose context ended (shutdown, or a delivery the transport
// abandoned) is nacked, never poisoned: the failure was not its fault.
func poisonQueue(pub message.Publisher, log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		var (
			mu     sync.Mutex
			queues = map[string]message.HandlerFunc{}
		)
		inner := func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			if msg.Context().Err() != nil {
				return nil, interrupted{err}
			}
			logFailure(log, msg, err, "bus: handler failed after retries; message sent to the poison queue")
			return nil, reason{err}
		}
		return func(msg *message.Message) ([]*message.Message, error) {
			topic := message.SubscribeTopicFromCtx(msg.Context())
			if topic == "" {
				topic = Topic
			}
			mu.Lock()
			q := queues[topic]
			if q == nil {
				mw, err := middleware.PoisonQueueWithFilter(pub, topic+PoisonSuffix, func(err error) bool {
					return !errors.As(err, new(interrupted))
				})
				if err != nil {
					mu.Unlock()
					return nil, err
				}
				q = mw(inner)
				queues[topic] = q
			}
			mu.Unlock()
			return q(msg)
		}
	}
}

// interrupted marks a failure of a message whose context ended.
type interrupted struct{ error }

func (e interrupted) Unwrap() error { return e.error }

// reason is an error as one bounded line: it becomes a header value.
type reason struct{ error }

func (e reason) Error() string {
	s := strings.Join(strings.Fields(e.error.Error()), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > maxReason {
		n := maxReason
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

func (e reason) Unwrap() error { return e.error }

func logFailure(log *slog.Logger, msg *message.Message, err error, what string) {
	log.Error(what,
		"message_uuid", msg.UUID,
		"type", msg.Metadata.Get(MetadataType),
		"stream", msg.Metadata.Get(MetadataStream),
		"position", msg.Metadata.Get(MetadataPosition),
		"correlation_id", middleware.MessageCorrelationID(msg),
		"error", err)
}
