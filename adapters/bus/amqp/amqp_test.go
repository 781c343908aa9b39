package amqp

import (
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func TestMarshalerNeverFailsToDecode(t *testing.T) {
	cases := []struct {
		name     string
		d        amqp091.Delivery
		wantUUID string
		wantMD   map[string]string
	}{
		{"no headers (watermill's marshaler panics)", amqp091.Delivery{Body: []byte("x"), MessageId: "m1"}, "m1", nil},
		{"non-string header", amqp091.Delivery{Body: []byte("x"), MessageId: "m2", Headers: amqp091.Table{"n": int32(4)}}, "m2", nil},
		{"ours", amqp091.Delivery{Body: []byte("x"), Headers: amqp091.Table{"_watermill_message_uuid": "u", "type": "t"}}, "u", map[string]string{"type": "t"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := marshaler{}.Unmarshal(tc.d)
			if err != nil {
				t.Fatalf("Unmarshal = %v, want a message (the handler drops what it cannot read)", err)
			}
			if msg.UUID != tc.wantUUID || string(msg.Payload) != "x" {
				t.Fatalf("message %q %q, want %q with the raw body", msg.UUID, msg.Payload, tc.wantUUID)
			}
			for k, v := range tc.wantMD {
				if msg.Metadata.Get(k) != v {
					t.Fatalf("metadata %v, want %s=%s", msg.Metadata, k, v)
				}
			}
		})
	}
}

func TestQueueName(t *testing.T) {
	if got := QueueName("octavia-es.events", "sagas"); got != "octavia-es.events.sagas" {
		t.Fatalf("QueueName = %q", got)
	}
}
