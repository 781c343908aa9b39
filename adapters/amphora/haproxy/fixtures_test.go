package haproxy

import (
	"fmt"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

// Readable fixed ids: the kind shows in the first group, the number last.
func lbID() string            { return "aaaaaaaa-aaaa-4aaa-8aaa-000000000001" }
func ampID() string           { return "eeeeeeee-eeee-4eee-8eee-000000000001" }
func listenerID(n int) string { return fmt.Sprintf("11111111-1111-4111-8111-%012d", n) }
func poolID(n int) string     { return fmt.Sprintf("22222222-2222-4222-8222-%012d", n) }
func memberID(n int) string   { return fmt.Sprintf("33333333-3333-4333-8333-%012d", n) }
func monitorID(n int) string  { return fmt.Sprintf("44444444-4444-4444-8444-%012d", n) }

func ptr[T any](v T) *T { return &v }

// goldenBase stands for the amphora's working directory in golden files;
// the haproxy -c test points it at a temporary directory.
const goldenBase = "/var/lib/octavia-es/amphorae/eeeeeeee-eeee-4eee-8eee-000000000001"

func goldenOptions() Options {
	return Options{
		AmphoraID:   ampID(),
		StatsSocket: goldenBase + "/haproxy.sock",
		StateFile:   goldenBase + "/servers-state",
		PingCommand: goldenBase + "/ping-wrapper.sh",
		Certificates: map[string]string{
			listenerID(1): goldenBase + "/certs/" + listenerID(1) + ".pem",
			listenerID(2): goldenBase + "/certs/" + listenerID(2) + ".pem",
			listenerID(3): goldenBase + "/certs/" + listenerID(3) + ".pem",
			listenerID(4): goldenBase + "/certs/" + listenerID(4) + ".pem",
			listenerID(5): goldenBase + "/certs/" + listenerID(5) + ".pem",
		},
		ClientCAs:        map[string]string{listenerID(5): goldenBase + "/certs/client-ca.pem"},
		ClientCRLs:       map[string]string{listenerID(5): goldenBase + "/certs/client-crl.pem"},
		PoolCertificates: map[string]string{poolID(2): goldenBase + "/certs/sni-a.pem", poolID(3): goldenBase + "/certs/sni-b.pem"},
		PoolCAs:          map[string]string{poolID(2): goldenBase + "/certs/client-ca.pem", poolID(3): goldenBase + "/certs/client-ca.pem"},
		PoolCRLs:         map[string]string{poolID(3): goldenBase + "/certs/client-crl.pem"},
		SNICertificates: map[string][]string{
			listenerID(4): {goldenBase + "/certs/sni-a.pem", goldenBase + "/certs/sni-b.pem"},
		},
	}
}

func loadBalancer() events.LoadBalancer {
	return events.LoadBalancer{
		ID: lbID(), ProjectID: "e3cd678b11784734bc366148aa37580e", AdminStateUp: true,
		VipAddress: ptr("127.100.0.5"), Provider: "amphora",
	}
}

func listener(n int, protocol string, port int) events.Listener {
	return events.Listener{
		ID: listenerID(n), LoadBalancerID: lbID(), AdminStateUp: true, Protocol: protocol,
		ProtocolPort: port, ConnectionLimit: -1, InsertHeaders: map[string]string{},
		TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
		ClientAuthentication: "NONE",
	}
}

// withPool makes pool n listener l's default pool.
func withPool(l events.Listener, n int) events.Listener {
	l.DefaultPoolID = ptr(poolID(n))
	return l
}

func pool(n int, protocol, algorithm string) events.Pool {
	return events.Pool{ID: poolID(n), LoadBalancerID: lbID(), AdminStateUp: true, Protocol: protocol, LBAlgorithm: algorithm}
}

func member(n, pool int, address string, port int) events.Member {
	return events.Member{ID: memberID(n), PoolID: poolID(pool), AdminStateUp: true, Address: address, ProtocolPort: port, Weight: 1}
}

func monitor(n, pool int, typ string) events.HealthMonitor {
	hm := events.HealthMonitor{
		ID: monitorID(n), PoolID: poolID(pool), AdminStateUp: true, Type: typ,
		Delay: 5, Timeout: 3, MaxRetries: 2, MaxRetriesDown: 3,
	}
	if typ == monitorHTTP || typ == monitorHTTPS {
		hm.HTTPMethod, hm.URLPath, hm.ExpectedCodes = ptr("GET"), ptr("/"), ptr("200")
	}
	return hm
}

// simple is one HTTP listener with a round-robin pool of two members.
func simple() amphora.Config {
	return amphora.Config{
		Version:      7,
		LoadBalancer: loadBalancer(),
		Listeners:    []events.Listener{withPool(listener(1, protoHTTP, 80), 1)},
		Pools:        []events.Pool{pool(1, protoHTTP, "ROUND_ROBIN")},
		Members: []events.Member{
			member(1, 1, "127.0.0.1", 8081),
			member(2, 1, "127.0.0.1", 8082),
		},
	}
}
