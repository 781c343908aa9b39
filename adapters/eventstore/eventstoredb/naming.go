package eventstoredb

import (
	"errors"
	"fmt"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// naming maps our stream names to the server's and says which events of
// $all are the store's: those of streams named namespace+prefix+….
type naming struct {
	// namespace is prepended to every stream name on the server and
	// stripped on read, so several stores (deployments, test runs) can
	// share a server. Empty by default.
	namespace string
	// prefix starts every stream of the store (events.StreamPrefix by
	// default); $all is read filtered on namespace+prefix.
	prefix string
}

var errStreamName = errors.New("eventstore/eventstoredb: invalid stream name")

func (n naming) validate() error {
	if strings.HasPrefix(n.namespace+n.prefix, "$") {
		return fmt.Errorf("%w: namespace %q and prefix %q name system streams", errStreamName, n.namespace, n.prefix)
	}
	return nil
}

// server is the server's name of our stream. A stream outside the prefix is
// refused: its events would never show in ReadAll, Subscribe or Head.
func (n naming) server(stream string) (string, error) {
	switch {
	case stream == "":
		return "", fmt.Errorf("%w: empty", errStreamName)
	case !strings.HasPrefix(stream, n.prefix):
		return "", fmt.Errorf("%w: %q does not start with the store's prefix %q", errStreamName, stream, n.prefix)
	case strings.HasPrefix(n.namespace+stream, "$"):
		return "", fmt.Errorf("%w: %q is a system stream", errStreamName, stream)
	}
	return n.namespace + stream, nil
}

// ours returns our name of a server stream, and whether it is the store's.
func (n naming) ours(serverStream string) (string, bool) {
	if strings.HasPrefix(serverStream, "$") {
		return "", false
	}
	stream, ok := strings.CutPrefix(serverStream, n.namespace)
	if !ok || !strings.HasPrefix(stream, n.prefix) {
		return "", false
	}
	return stream, true
}

// filter is the server-side filter of $all reads: the stream-name prefix,
// or, when there is none, every stream but the system ones ($…).
func (n naming) filter() *esdb.SubscriptionFilter {
	if p := n.namespace + n.prefix; p != "" {
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{p}}
	}
	return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^[^$]`}
}
