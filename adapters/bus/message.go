package bus

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/octavia-es/octavia-es/events"
)

// Metadata keys of a published envelope, so a consumer can filter without
// decoding the payload.
const (
	MetadataType     = "type"
	MetadataStream   = "stream"
	MetadataPosition = "position"
)

// NewMessage wraps an envelope: UUID is the event id, the payload its JSON.
func NewMessage(env events.Envelope) (*message.Message, error) {
	payload, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("bus: encode event %s: %w", env.ID, err)
	}
	msg := message.NewMessage(env.ID, payload)
	msg.Metadata.Set(MetadataType, env.Type)
	msg.Metadata.Set(MetadataStream, env.Stream)
	msg.Metadata.Set(MetadataPosition, strconv.FormatInt(env.Position, 10))
	if env.CorrelationID != "" {
		middleware.SetCorrelationID(env.CorrelationID, msg)
	}
	return msg, nil
}

// DecodeMessage returns the envelope a message carries.
func DecodeMessage(msg *message.Message) (events.Envelope, error) {
	var env events.Envelope
	if err := json.Unmarshal(msg.Payload, &env); err != nil {
		return events.Envelope{}, fmt.Errorf("bus: decode message %s: %w", msg.UUID, err)
	}
	if env.ID == "" || env.Stream == "" || env.Type == "" {
		return events.Envelope{}, fmt.Errorf("bus: decode message %s: not an event envelope", msg.UUID)
	}
	return env, nil
}
