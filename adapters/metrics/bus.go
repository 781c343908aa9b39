package metrics

import (
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// maxTracked bounds the failed deliveries remembered: past it the memory
// is dropped (a few redeliveries then go uncounted, never the process's memory).
const maxTracked = 10000

// CountRedeliveries is a watermill handler middleware counting
// octavia_es_bus_redeliveries_total{handler}: a message handled again
// after a delivery of it failed in this process (a retry of the router's
// retry middleware, or the transport's redelivery after a nack). Add it
// after the retry middleware so that it sees every attempt.
func (m *Metrics) CountRedeliveries() message.HandlerMiddleware {
	var mu sync.Mutex
	failed := map[string]struct{}{}
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			mu.Lock()
			_, again := failed[msg.UUID]
			mu.Unlock()
			if again {
				m.busRedeliveries.WithLabelValues(message.HandlerNameFromCtx(msg.Context())).Inc()
			}
			out, err := h(msg)
			mu.Lock()
			if err != nil {
				if len(failed) >= maxTracked {
					clear(failed)
				}
				failed[msg.UUID] = struct{}{}
			} else {
				delete(failed, msg.UUID)
			}
			mu.Unlock()
			return out, err
		}
	}
}
