package haproxy

import (
	"errors"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

// Bad input is refused with the right sentinel and a message naming the
// object, never rendered silently and never a panic.
func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*amphora.Config, *Options)
		want    error
		mention string
	}{
		{"UDP listener", func(c *amphora.Config, _ *Options) {
			c.Listeners[0].Protocol = "UDP"
		}, ErrUnsupportedProtocol, listenerID(1)},
		{"SCTP listener", func(c *amphora.Config, _ *Options) {
			c.Listeners[0].Protocol = "SCTP"
		}, ErrUnsupportedProtocol, "SCTP"},
		{"unknown listener protocol", func(c *amphora.Config, _ *Options) {
			c.Listeners[0].Protocol = "QUIC"
		}, ErrUnsupportedProtocol, "QUIC"},
		{"UDP pool attached to no listener", func(c *amphora.Config, _ *Options) {
			c.Pools = append(c.Pools, pool(5, "UDP", "ROUND_ROBIN"))
		}, ErrUnsupportedProtocol, poolID(5)},
		{"SOURCE_IP_PORT algorithm", func(c *amphora.Config, _ *Options) {
			c.Pools[0].LBAlgorithm = "SOURCE_IP_PORT"
		}, ErrUnsupportedOption, "SOURCE_IP_PORT"},
		{"UDP-CONNECT monitor", func(c *amphora.Config, _ *Options) {
			c.HealthMonitors = []events.HealthMonitor{monitor(1, 1, "UDP-CONNECT")}
		}, ErrUnsupportedOption, monitorID(1)},
		{"unknown persistence", func(c *amphora.Config, _ *Options) {
			c.Pools[0].SessionPersistence = &events.SessionPersistence{Type: "TICKET"}
		}, ErrUnsupportedOption, "TICKET"},
		{"TERMINATED_HTTPS without a certificate", func(c *amphora.Config, o *Options) {
			c.Listeners[0].Protocol = protoTerminatedHTTPS
			o.Certificates = nil
		}, ErrCertificateUnavailable, listenerID(1)},
		{"client CA file missing", func(c *amphora.Config, _ *Options) {
			c.Listeners[0].Protocol = protoTerminatedHTTPS
			c.Listeners[0].ClientCATLSContainerRef = ptr("ref")
		}, ErrCertificateUnavailable, "no client CA file"},
		{"client CRL file missing", func(c *amphora.Config, o *Options) {
			c.Listeners[0].Protocol = protoTerminatedHTTPS
			c.Listeners[0].ClientCATLSContainerRef, c.Listeners[0].ClientCRLContainerRef = ptr("ref"), ptr("crl")
			o.ClientCAs = map[string]string{listenerID(1): "ca.pem"}
		}, ErrCertificateUnavailable, "no client CRL file"},
		{"client authentication mode", func(c *amphora.Config, o *Options) {
			c.Listeners[0].Protocol = protoTerminatedHTTPS
			c.Listeners[0].ClientCATLSContainerRef, c.Listeners[0].ClientAuthentication = ptr("ref"), "SOMETIMES"
			o.ClientCAs = map[string]string{listenerID(1): "ca.pem"}
		}, ErrUnsupportedOption, "SOMETIMES"},
		{"pool CA file missing", func(c *amphora.Config, _ *Options) {
			c.Pools[0].TLSEnabled = true
			c.Pools[0].CATLSContainerRef = ptr("ref")
		}, ErrCertificateUnavailable, "no CA file"},
		{"pool client certificate file missing", func(c *amphora.Config, _ *Options) {
			c.Pools[0].TLSEnabled = true
			c.Pools[0].TLSContainerRef = ptr("ref")
		}, ErrCertificateUnavailable, "no client certificate file"},
		{"pool CRL file missing", func(c *amphora.Config, o *Options) {
			c.Pools[0].TLSEnabled = true
			c.Pools[0].CATLSContainerRef, c.Pools[0].CRLContainerRef = ptr("ca"), ptr("crl")
			o.PoolCAs = map[string]string{poolID(1): "ca.pem"}
		}, ErrCertificateUnavailable, "no CRL file"},
		{"no stats socket", func(_ *amphora.Config, o *Options) { o.StatsSocket = "" }, ErrInvalidConfig, "StatsSocket"},
		{"newline in stats socket", func(_ *amphora.Config, o *Options) { o.StatsSocket = "/a\nuser root" }, ErrInvalidConfig, "control character"},
		{"no VIP", func(c *amphora.Config, _ *Options) { c.LoadBalancer.VipAddress = nil }, ErrInvalidConfig, "VIP"},
		{"bad VIP", func(_ *amphora.Config, o *Options) { o.VIPAddress = "lb.example.com" }, ErrInvalidConfig, "lb.example.com"},
		{"bad additional VIP", func(c *amphora.Config, _ *Options) {
			c.LoadBalancer.AdditionalVips = []events.AdditionalVip{{IPAddress: ptr("x")}}
		}, ErrInvalidConfig, "additional VIP"},
		{"member hostname", func(c *amphora.Config, _ *Options) { c.Members[0].Address = "web1" }, ErrInvalidConfig, memberID(1)},
		{"member port 0", func(c *amphora.Config, _ *Options) { c.Members[0].ProtocolPort = 0 }, ErrInvalidConfig, memberID(1)},
		{"member weight 257", func(c *amphora.Config, _ *Options) { c.Members[0].Weight = 257 }, ErrInvalidConfig, memberID(1)},
		{"listener port 70000", func(c *amphora.Config, _ *Options) { c.Listeners[0].ProtocolPort = 70000 }, ErrInvalidConfig, "70000"},
		{"two listeners on one port", func(c *amphora.Config, _ *Options) {
			c.Listeners = append(c.Listeners, listener(2, protoTCP, 80))
		}, ErrInvalidConfig, "port 80"},
		{"id with a colon", func(c *amphora.Config, _ *Options) { c.Members[0].ID = "a:b" }, ErrInvalidConfig, "a:b"},
		{"id with a space", func(c *amphora.Config, _ *Options) { c.Listeners[0].ID = "a b" }, ErrInvalidConfig, "a b"},
		{"empty load balancer id", func(c *amphora.Config, _ *Options) { c.LoadBalancer.ID = "" }, ErrInvalidConfig, "load balancer"},
		{"url path header injection", monitorEdit(func(hm *events.HealthMonitor) { hm.URLPath = ptr("/a\r\nHost: x") }), ErrInvalidConfig, "url_path"},
		{"url path control character", monitorEdit(func(hm *events.HealthMonitor) { hm.URLPath = ptr("/a\x01b") }), ErrInvalidConfig, "control character"},
		{"url path without slash", monitorEdit(func(hm *events.HealthMonitor) { hm.URLPath = ptr("health") }), ErrInvalidConfig, "url_path"},
		{"url path with a space", monitorEdit(func(hm *events.HealthMonitor) { hm.URLPath = ptr("/a b") }), ErrInvalidConfig, "url_path"},
		{"lowercase method", monitorEdit(func(hm *events.HealthMonitor) { hm.HTTPMethod = ptr("get x") }), ErrInvalidConfig, "http_method"},
		{"expected codes not numbers", monitorEdit(func(hm *events.HealthMonitor) { hm.ExpectedCodes = ptr("abc") }), ErrInvalidConfig, "expected_codes"},
		{"expected codes reversed range", monitorEdit(func(hm *events.HealthMonitor) { hm.ExpectedCodes = ptr("204-200") }), ErrInvalidConfig, "expected_codes"},
		{"expected code 99", monitorEdit(func(hm *events.HealthMonitor) { hm.ExpectedCodes = ptr("99") }), ErrInvalidConfig, "expected_codes"},
		{"http version 2", monitorEdit(func(hm *events.HealthMonitor) { hm.HTTPVersion = ptr(2.0) }), ErrInvalidConfig, "http_version"},
		{"domain with a space", monitorEdit(func(hm *events.HealthMonitor) {
			hm.HTTPVersion, hm.DomainName = ptr(1.1), ptr("a b")
		}), ErrInvalidConfig, "domain_name"},
		{"delay 0", monitorEdit(func(hm *events.HealthMonitor) { hm.Delay = 0 }), ErrInvalidConfig, monitorID(1)},
		{"PING without a command", func(c *amphora.Config, o *Options) {
			c.HealthMonitors = []events.HealthMonitor{monitor(1, 1, monitorPing)}
			o.PingCommand = ""
		}, ErrInvalidConfig, "PingCommand"},
		{"monitor address not an IP", func(c *amphora.Config, _ *Options) {
			c.HealthMonitors = []events.HealthMonitor{monitor(1, 1, monitorTCP)}
			c.Members[0].MonitorAddress = ptr("web1")
		}, ErrInvalidConfig, memberID(1)},
		{"monitor port 65536", func(c *amphora.Config, _ *Options) {
			c.HealthMonitors = []events.HealthMonitor{monitor(1, 1, monitorTCP)}
			c.Members[0].MonitorPort = ptr(65536)
		}, ErrInvalidConfig, memberID(1)},
		{"bad CIDR", func(c *amphora.Config, _ *Options) {
			c.Listeners[0].AllowedCIDRs = []string{"10.0.0.0/33"}
		}, ErrInvalidConfig, "10.0.0.0/33"},
		{"bad ciphers", func(c *amphora.Config, _ *Options) {
			c.Listeners[0].Protocol = protoTerminatedHTTPS
			c.Listeners[0].TLSCiphers = ptr("AES; rm -rf")
		}, ErrInvalidConfig, "tls_ciphers"},
		{"bad ALPN", func(c *amphora.Config, _ *Options) {
			c.Pools[0].TLSEnabled = true
			c.Pools[0].ALPNProtocols = []string{"h2 x"}
		}, ErrInvalidConfig, "alpn"},
		{"APP_COOKIE without a name", func(c *amphora.Config, _ *Options) {
			c.Pools[0].SessionPersistence = &events.SessionPersistence{Type: persistAppCookie}
		}, ErrInvalidConfig, "cookie_name"},
		{"APP_COOKIE name closing the fetch", func(c *amphora.Config, _ *Options) {
			c.Pools[0].SessionPersistence = &events.SessionPersistence{Type: persistAppCookie, CookieName: ptr("a),b")}
		}, ErrInvalidConfig, "cookie name"},
		{"peer port is a listener's", func(c *amphora.Config, o *Options) {
			c.Pools[0].SessionPersistence = &events.SessionPersistence{Type: persistSourceIP}
			o.PeerPort = 80
		}, ErrInvalidConfig, "peer port"},
		{"peer port without amphora id", func(c *amphora.Config, o *Options) {
			c.Pools[0].SessionPersistence = &events.SessionPersistence{Type: persistSourceIP}
			o.PeerPort, o.AmphoraID = 1025, ""
		}, ErrInvalidConfig, "AmphoraID"},
		{"negative maxconn", func(_ *amphora.Config, o *Options) { o.MaxConn = -1 }, ErrInvalidConfig, "maxconn"},
		{"bad stick size", func(_ *amphora.Config, o *Options) { o.StickSize = "10 k" }, ErrInvalidConfig, "stick size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, opts := simple(), goldenOptions()
			tt.edit(&cfg, &opts)
			out, err := Render(cfg, opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Render = %v (output %d bytes), want %v", err, len(out), tt.want)
			}
			if out != nil {
				t.Errorf("output with an error: %s", out)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func monitorEdit(edit func(*events.HealthMonitor)) func(*amphora.Config, *Options) {
	return func(c *amphora.Config, _ *Options) {
		hm := monitor(1, 1, monitorHTTP)
		edit(&hm)
		c.HealthMonitors = []events.HealthMonitor{hm}
	}
}

// A zero Config is an error, not a panic.
func TestRenderZeroValues(t *testing.T) {
	if _, err := Render(amphora.Config{}, Options{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Render(zero) = %v, want ErrInvalidConfig", err)
	}
	// Nil pointers and empty maps everywhere Octavia allows nulls.
	cfg := simple()
	cfg.Listeners[0].InsertHeaders = nil
	cfg.HealthMonitors = []events.HealthMonitor{{
		ID: monitorID(1), PoolID: poolID(1), AdminStateUp: true, Type: monitorHTTP,
		Delay: 1, Timeout: 1, MaxRetries: 1, MaxRetriesDown: 1,
	}}
	out, err := Render(cfg, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"http-check send meth GET uri /\n", "http-check expect status 200\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Octavia's defaults: %q missing from\n%s", want, out)
		}
	}
}
