package haproxy

import (
	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

// goldenCase is one rendered configuration, kept in testdata/<name>.golden.
type goldenCase struct {
	name string
	cfg  func() amphora.Config
	opts func(Options) Options // nil = goldenOptions()
}

// goldenCases is the matrix: each protocol, algorithm, persistence and
// monitor type, headers, CIDRs, disabled objects, members' options, limits
// and timeouts, logging, IPv6, TLS.
func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "empty-lb", cfg: func() amphora.Config {
			return amphora.Config{Version: 1, LoadBalancer: loadBalancer()}
		}},
		{name: "http-round-robin", cfg: simple},
		{name: "tcp-least-connections", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = []events.Listener{withPool(listener(1, protoTCP, 3306), 1)}
			c.Pools = []events.Pool{pool(1, protoTCP, "LEAST_CONNECTIONS")}
			return c
		}},
		{name: "tcp-listener-http-pool", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = []events.Listener{withPool(listener(1, protoTCP, 8080), 1)}
			return c
		}},
		{name: "https-passthrough-source-ip", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = []events.Listener{withPool(listener(1, protoHTTPS, 443), 1)}
			c.Pools = []events.Pool{pool(1, protoHTTPS, "SOURCE_IP")}
			c.Members = []events.Member{member(1, 1, "127.0.0.1", 8443)}
			return c
		}},
		{name: "terminated-https", cfg: func() amphora.Config {
			c := simple()
			l := withPool(listener(1, protoTerminatedHTTPS, 443), 1)
			l.DefaultTLSContainerRef = ptr("http://barbican/v1/containers/1")
			l.TLSCiphers = ptr("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384")
			l.TLSVersions = []string{"TLSv1.2", "TLSv1.3"}
			l.ALPNProtocols = []string{"h2", "http/1.1"}
			l.InsertHeaders = map[string]string{
				"X-Forwarded-For": "true", "X-Forwarded-Port": "True", "X-Forwarded-Proto": "TRUE",
				"X-SSL-Client-Verify": "true", "X-SSL-Client-Has-Cert": "true", "X-SSL-Client-DN": "true",
				"X-SSL-Client-CN": "true", "X-SSL-Issuer": "true", "X-SSL-Client-SHA1": "true",
				"X-SSL-Client-Not-Before": "true", "X-SSL-Client-Not-After": "true",
			}
			c.Listeners = []events.Listener{l}
			return c
		}},
		{name: "persistence-source-ip", cfg: persisted(events.SessionPersistence{Type: persistSourceIP})},
		{name: "persistence-http-cookie", cfg: persisted(events.SessionPersistence{Type: persistHTTPCookie})},
		{name: "persistence-app-cookie", cfg: persisted(events.SessionPersistence{Type: persistAppCookie, CookieName: ptr("JSESSIONID")})},
		{name: "persistence-peers", cfg: persisted(events.SessionPersistence{Type: persistSourceIP}),
			opts: func(o Options) Options { o.PeerPort = 1025; return o }},
		{name: "monitor-http", cfg: monitored(func(hm *events.HealthMonitor) {
			hm.HTTPMethod, hm.URLPath, hm.ExpectedCodes = ptr("HEAD"), ptr("/healthz?full=1"), ptr("200-204")
			hm.HTTPVersion = ptr(1.0)
		})},
		{name: "monitor-http11-host", cfg: monitored(func(hm *events.HealthMonitor) {
			hm.HTTPVersion, hm.DomainName, hm.ExpectedCodes = ptr(1.1), ptr("example.com"), ptr("200, 301,302")
		})},
		{name: "monitor-http-wide-codes", cfg: monitored(func(hm *events.HealthMonitor) {
			hm.ExpectedCodes = ptr("100-599")
		})},
		{name: "monitor-http-quoted-path", cfg: monitored(func(hm *events.HealthMonitor) {
			hm.URLPath = ptr("/it's#here$HOME")
		})},
		{name: "monitor-https", cfg: monitored(func(hm *events.HealthMonitor) { hm.Type = monitorHTTPS })},
		{name: "monitor-tcp", cfg: monitored(func(hm *events.HealthMonitor) { *hm = monitor(1, 1, monitorTCP) })},
		{name: "monitor-ping", cfg: monitored(func(hm *events.HealthMonitor) { *hm = monitor(1, 1, monitorPing) })},
		{name: "monitor-tls-hello", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = []events.Listener{withPool(listener(1, protoHTTPS, 443), 1)}
			c.Pools = []events.Pool{pool(1, protoHTTPS, "ROUND_ROBIN")}
			c.HealthMonitors = []events.HealthMonitor{monitor(1, 1, monitorTLSHello)}
			return c
		}},
		{name: "monitor-http-on-tcp-pool", cfg: func() amphora.Config {
			c := monitored(func(*events.HealthMonitor) {})()
			c.Listeners = []events.Listener{withPool(listener(1, protoTCP, 8080), 1)}
			c.Pools[0].Protocol = protoTCP
			return c
		}},
		{name: "monitor-https-on-https-pool", cfg: func() amphora.Config {
			c := monitored(func(hm *events.HealthMonitor) { hm.Type = monitorHTTPS })()
			c.Listeners = []events.Listener{withPool(listener(1, protoHTTPS, 443), 1)}
			c.Pools[0].Protocol = protoHTTPS
			return c
		}},
		{name: "persistence-http-cookie-tcp", cfg: func() amphora.Config {
			c := persisted(events.SessionPersistence{Type: persistHTTPCookie})()
			c.Listeners = []events.Listener{withPool(listener(1, protoTCP, 8080), 1)}
			c.Pools[0].Protocol = protoTCP
			return c
		}},
		{name: "monitor-disabled", cfg: monitored(func(hm *events.HealthMonitor) { hm.AdminStateUp = false })},
		{name: "monitor-address-port", cfg: func() amphora.Config {
			c := monitored(func(*events.HealthMonitor) {})()
			c.Members[0].MonitorAddress = ptr("127.0.0.9")
			c.Members[0].MonitorPort = ptr(9000)
			c.Members[1].MonitorPort = ptr(9001)
			return c
		}},
		{name: "insert-headers-http", cfg: func() amphora.Config {
			c := simple()
			c.Listeners[0].InsertHeaders = map[string]string{
				"X-Forwarded-For": "true", "X-Forwarded-Port": "true", "X-Forwarded-Proto": "true",
			}
			return c
		}},
		{name: "insert-headers-false", cfg: func() amphora.Config {
			c := simple()
			c.Listeners[0].InsertHeaders = map[string]string{"X-Forwarded-For": "false", "X-Forwarded-Port": "False"}
			return c
		}},
		{name: "allowed-cidrs", cfg: func() amphora.Config {
			c := simple()
			c.Listeners[0].AllowedCIDRs = []string{"192.168.0.0/16", "10.1.2.3/8", "127.0.0.0/8", "10.0.0.0/8"}
			return c
		}},
		{name: "disabled-objects", cfg: func() amphora.Config {
			c := simple()
			off := withPool(listener(2, protoHTTP, 8080), 2)
			off.AdminStateUp = false
			c.Listeners = append(c.Listeners, off, withPool(listener(3, protoTCP, 9000), 3))
			p3 := pool(3, protoTCP, "ROUND_ROBIN")
			p3.AdminStateUp = false
			c.Pools = append(c.Pools, pool(2, protoHTTP, "ROUND_ROBIN"), p3)
			c.Members[1].AdminStateUp = false
			c.Members = append(c.Members, member(3, 2, "127.0.0.1", 8083), member(4, 3, "127.0.0.1", 8084))
			return c
		}},
		{name: "lb-disabled", cfg: func() amphora.Config {
			c := simple()
			c.LoadBalancer.AdminStateUp = false
			return c
		}},
		{name: "backup-and-drained-members", cfg: func() amphora.Config {
			c := monitored(func(*events.HealthMonitor) {})()
			c.Members[0].Weight = 0
			c.Members[1].Weight = 256
			b := member(3, 1, "127.0.0.1", 8083)
			b.Backup = true
			c.Members = append(c.Members, b)
			return c
		}},
		{name: "connection-limits", cfg: func() amphora.Config {
			c := simple()
			c.Listeners[0].ConnectionLimit = 100
			c.Listeners = append(c.Listeners, withPool(listener(2, protoTCP, 81), 1), listener(3, protoTCP, 82))
			c.Listeners[2].ConnectionLimit = 0
			return c
		}},
		{name: "connection-limits-capped", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = append(c.Listeners, listener(2, protoTCP, 81))
			return c
		}, opts: func(o Options) Options { o.MaxConn = 4000; o.DefaultConnectionLimit = 3000; return o }},
		{name: "timeouts", cfg: func() amphora.Config {
			c := simple()
			l := &c.Listeners[0]
			l.TimeoutClientData, l.TimeoutMemberConnect, l.TimeoutMemberData, l.TimeoutTCPInspect = 1000, 2000, 3000, 400
			return c
		}},
		{name: "timeouts-zero-defaults", cfg: func() amphora.Config {
			c := simple()
			l := &c.Listeners[0]
			l.TimeoutClientData, l.TimeoutMemberConnect, l.TimeoutMemberData, l.TimeoutTCPInspect = 0, 0, 0, 0
			return c
		}},
		{name: "proxy-protocols", cfg: func() amphora.Config {
			c := simple()
			tls := withPool(listener(3, protoTerminatedHTTPS, 443), 3)
			tls.DefaultTLSContainerRef = ptr("http://barbican/v1/containers/3")
			c.Listeners = []events.Listener{
				withPool(listener(1, protoHTTP, 80), 1), withPool(listener(2, protoTCP, 3306), 2), tls,
			}
			c.Pools = []events.Pool{
				pool(1, protoProxy, "ROUND_ROBIN"), pool(2, protoProxyV2, "ROUND_ROBIN"), pool(3, protoProxyV2, "ROUND_ROBIN"),
			}
			c.Members = []events.Member{
				member(1, 1, "127.0.0.1", 8081), member(2, 2, "127.0.0.1", 8082), member(3, 3, "127.0.0.1", 8083),
			}
			return c
		}},
		{name: "multi-listener-shared-pool", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = append(c.Listeners, withPool(listener(2, protoHTTP, 8080), 1), listener(3, protoTCP, 9000))
			c.Pools = append(c.Pools, pool(9, protoTCP, "ROUND_ROBIN")) // no listener: not rendered
			return c
		}},
		{name: "logging-socket", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = append(c.Listeners, withPool(listener(2, protoTCP, 81), 1))
			return c
		}, opts: func(o Options) Options {
			o.LogTarget, o.User, o.Group, o.NbThread = "/run/octavia-es/log", "haproxy", "haproxy", 1
			return o
		}},
		{name: "logging-stdout", cfg: simple, opts: func(o Options) Options { o.LogTarget = "stdout"; return o }},
		{name: "ipv6", cfg: func() amphora.Config {
			c := persisted(events.SessionPersistence{Type: persistSourceIP})()
			c.LoadBalancer.VipAddress = ptr("fd00::5")
			c.Listeners[0].AllowedCIDRs = []string{"fd00::/64", "::1/128"}
			c.Members = []events.Member{member(1, 1, "::1", 8081), member(2, 1, "fd00::10", 8082)}
			c.Members[1].MonitorAddress = ptr("fd00::11")
			c.HealthMonitors = []events.HealthMonitor{monitor(1, 1, monitorTCP)}
			return c
		}},
		{name: "vip-option-and-additional-vips", cfg: func() amphora.Config {
			c := simple()
			c.LoadBalancer.AdditionalVips = []events.AdditionalVip{
				{SubnetID: "s2", IPAddress: ptr("127.100.1.5")}, {SubnetID: "s3"},
			}
			return c
		}, opts: func(o Options) Options { o.VIPAddress = "127.100.0.6"; return o }},
		{name: "pool-tls", cfg: func() amphora.Config {
			c := simple()
			p := &c.Pools[0]
			p.TLSEnabled = true
			p.TLSCiphers = ptr("ECDHE-RSA-AES128-GCM-SHA256")
			p.TLSVersions = []string{"TLSv1.2"}
			p.ALPNProtocols = []string{"http/1.1"}
			return c
		}},
		{name: "pool-tls-certificates", cfg: func() amphora.Config {
			// Three listeners, each with its own TLS pool: no CA (verify
			// none), a client certificate and a CA (HAProxy's default verify
			// required, as Octavia renders it), and a CA with a CRL.
			c := amphora.Config{Version: 5, LoadBalancer: loadBalancer()}
			for n := 1; n <= 3; n++ {
				c.Listeners = append(c.Listeners, withPool(listener(n, protoHTTP, 8080+n), n))
				p := pool(n, protoHTTP, "ROUND_ROBIN")
				p.ListenerID, p.TLSEnabled = listenerID(n), true
				c.Pools = append(c.Pools, p)
				c.Members = append(c.Members, member(n, n, "127.0.0.1", 9000+n))
			}
			c.Pools[1].TLSContainerRef, c.Pools[1].CATLSContainerRef = ptr("file:///c/client.pem"), ptr("file:///c/ca.pem")
			c.Pools[2].TLSContainerRef, c.Pools[2].CATLSContainerRef, c.Pools[2].CRLContainerRef = ptr("file:///c/client.pem"), ptr("file:///c/ca.pem"), ptr("file:///c/crl.pem")
			c.Pools[0].TLSContainerRef = nil
			return c
		}},
		{name: "prometheus", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = append(c.Listeners, listener(2, protoPrometheus, 9100))
			return c
		}},
		{name: "terminated-https-sni", cfg: func() amphora.Config {
			// Listener 4 has two SNI certificates after its default one.
			c := simple()
			l := withPool(listener(4, protoTerminatedHTTPS, 8443), 1)
			l.DefaultTLSContainerRef = ptr("file:///etc/octavia-es/certificates/default.pem")
			l.SNIContainerRefs = []string{"file:///etc/octavia-es/certificates/a.pem", "file:///etc/octavia-es/certificates/b.pem"}
			l.InsertHeaders = map[string]string{"X-Forwarded-Proto": "true", "X-SSL-Client-Has-Cert": "true"}
			c.Listeners = []events.Listener{l}
			return c
		}},
		{name: "terminated-https-client-auth", cfg: func() amphora.Config {
			// Listener 5 verifies client certificates against a CA and its
			// revocation list, and passes what it saw on.
			c := simple()
			l := withPool(listener(5, protoTerminatedHTTPS, 8443), 1)
			l.DefaultTLSContainerRef = ptr("file:///etc/octavia-es/certificates/default.pem")
			l.ClientCATLSContainerRef = ptr("file:///etc/octavia-es/certificates/ca.pem")
			l.ClientCRLContainerRef = ptr("file:///etc/octavia-es/certificates/crl.pem")
			l.ClientAuthentication = "MANDATORY"
			l.TLSVersions = []string{"TLSv1.2", "TLSv1.3"}
			l.InsertHeaders = map[string]string{"X-SSL-Client-Verify": "true", "X-SSL-Client-CN": "true", "X-SSL-Issuer": "true"}
			c.Listeners = []events.Listener{l}
			return c
		}},
		{name: "prometheus-tls", cfg: func() amphora.Config {
			c := amphora.Config{Version: 3, LoadBalancer: loadBalancer()}
			l := listener(2, protoPrometheus, 9100)
			l.DefaultTLSContainerRef = ptr("http://barbican/v1/containers/2")
			c.Listeners = []events.Listener{l}
			return c
		}},
		{name: "tcp-inspect", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = []events.Listener{withPool(listener(1, protoTCP, 25), 1)}
			c.Listeners[0].TimeoutTCPInspect = 5000
			c.Pools[0].Protocol = protoTCP
			return c
		}},
		{name: "listener-without-pool", cfg: func() amphora.Config {
			c := simple()
			c.Listeners = []events.Listener{listener(1, protoHTTP, 80)}
			return c
		}},
		{name: "default-pool-pending-delete", cfg: func() amphora.Config {
			c := simple()
			c.Pools, c.Members = nil, nil // left out of the config: being deleted
			return c
		}},
		{name: "minimal-options", cfg: simple, opts: func(Options) Options {
			return Options{StatsSocket: goldenBase + "/haproxy.sock"}
		}},
	}
}

// persisted: the simple config with session persistence on its pool.
func persisted(sp events.SessionPersistence) func() amphora.Config {
	return func() amphora.Config {
		c := simple()
		c.Pools[0].SessionPersistence = &sp
		return c
	}
}

// monitored: the simple config with an HTTP monitor edited by edit.
func monitored(edit func(*events.HealthMonitor)) func() amphora.Config {
	return func() amphora.Config {
		c := simple()
		hm := monitor(1, 1, monitorHTTP)
		edit(&hm)
		c.HealthMonitors = []events.HealthMonitor{hm}
		return c
	}
}
