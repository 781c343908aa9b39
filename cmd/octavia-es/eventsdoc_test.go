package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/octavia-es/octavia-es/adapters/bus"
)

// docs/events.md is generated in events/, which may not import the bus:
// the topic and metadata names it documents are checked here, where both
// meet.
func TestEventsDocNamesTheBus(t *testing.T) {
	doc, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{bus.Topic, bus.MetadataType, bus.MetadataStream, bus.MetadataPosition,
		middleware.CorrelationIDMetadataKey} {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/events.md does not name `%s`", name)
		}
	}
}
