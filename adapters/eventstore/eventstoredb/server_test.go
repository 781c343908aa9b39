package eventstoredb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoredb"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
)

// serverEnv names the EventStoreDB (or KurrentDB) server the conformance
// suite runs against, e.g. esdb://127.0.0.1:2113?tls=false. No such server
// can be installed on our machines, so without it the test is skipped,
// under CI too (see docs/eventstore-eventstoredb.md).
const serverEnv = "OCTAVIA_ES_TEST_EVENTSTOREDB"

// Every store gets a namespace of its own on the shared server (streams are
// never deleted: the namespace is what makes each store empty) and the
// suite's stream names, which lack events.StreamPrefix.
func TestConformanceOnServer(t *testing.T) {
	url := os.Getenv(serverEnv)
	if url == "" {
		t.Skipf("%s not set: no EventStoreDB server to run the conformance suite against", serverEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe, err := eventstoredb.Open(ctx, url)
	if err != nil {
		t.Fatalf("%s is set but: %v", serverEnv, err)
	}
	_ = probe.Close()
	eventstoretest.RunWithFeatures(t, eventstoretest.Features{}, func(t *testing.T) eventstore.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := eventstoredb.Open(ctx, url, eventstoredb.WithNamespace(namespace()), eventstoredb.WithStreamPrefix(""))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func namespace() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "octavia-test-" + hex.EncodeToString(b) + "-"
}
