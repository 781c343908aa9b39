package haproxy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/octavia-es/octavia-es/events"
)

var (
	httpMethod = regexp.MustCompile(`^[A-Z]+$`)
	// domainName is what a Host header may carry here (hostname[:port]); a
	// '%' would start a log-format directive in "hdr".
	domainName = regexp.MustCompile(`^[A-Za-z0-9_.-]+(:[0-9]+)?$`)
)

// healthCheck is an enabled health monitor's backend part.
func healthCheck(hm *events.HealthMonitor, opts Options) (*checkView, error) {
	what := "health monitor " + hm.ID
	if hm.Delay < 1 || hm.Timeout < 1 || hm.MaxRetries < 1 || hm.MaxRetriesDown < 1 {
		return nil, fmt.Errorf("%s: delay, timeout, max_retries and max_retries_down must be positive: %w", what, ErrInvalidConfig)
	}
	c := &checkView{Timeout: hm.Timeout}
	switch hm.Type {
	case monitorHTTP, monitorHTTPS:
		send, expect, err := httpCheck(hm)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		c.HTTPSend, c.HTTPExpect = send, expect
	case monitorTCP:
	case monitorTLSHello:
		c.SSLHello = true
	case monitorPing:
		if opts.PingCommand == "" {
			return nil, fmt.Errorf("%s: PING needs Options.PingCommand: %w", what, ErrInvalidConfig)
		}
		cmd, err := quoteArg(opts.PingCommand)
		if err != nil {
			return nil, fmt.Errorf("ping command: %w", err)
		}
		c.ExternalCommand = cmd
	default:
		return nil, fmt.Errorf("%s: type %q: %w", what, hm.Type, ErrUnsupportedOption)
	}
	return c, nil
}

// httpCheck: the "http-check send" and "http-check expect" arguments.
// Octavia's defaults fill what the monitor leaves unset; the Host header
// goes with HTTP/1.1 only, as Octavia sends it.
func httpCheck(hm *events.HealthMonitor) (send, expect string, err error) {
	method, path, codes := "GET", "/", "200"
	if hm.HTTPMethod != nil && *hm.HTTPMethod != "" {
		method = *hm.HTTPMethod
	}
	if !httpMethod.MatchString(method) {
		return "", "", fmt.Errorf("http_method %q: %w", method, ErrInvalidConfig)
	}
	if hm.URLPath != nil && *hm.URLPath != "" {
		path = *hm.URLPath
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t") {
		return "", "", fmt.Errorf("url_path %q: %w", path, ErrInvalidConfig)
	}
	uri, err := quoteArg(path)
	if err != nil {
		return "", "", fmt.Errorf("url_path: %w", err)
	}
	send = "meth " + method + " uri " + uri
	if hm.HTTPVersion != nil {
		var ver string
		switch *hm.HTTPVersion {
		case 1.0:
			ver = "1.0"
		case 1.1:
			ver = "1.1"
		default:
			return "", "", fmt.Errorf("http_version %v: %w", *hm.HTTPVersion, ErrInvalidConfig)
		}
		send += " ver HTTP/" + ver
		if ver == "1.1" && hm.DomainName != nil && *hm.DomainName != "" {
			if !domainName.MatchString(*hm.DomainName) {
				return "", "", fmt.Errorf("domain_name %q: %w", *hm.DomainName, ErrInvalidConfig)
			}
			send += " hdr Host " + *hm.DomainName
		}
	}
	if hm.ExpectedCodes != nil && *hm.ExpectedCodes != "" {
		codes = *hm.ExpectedCodes
	}
	list, err := expectedCodes(codes)
	if err != nil {
		return "", "", err
	}
	if len(list) == 1 {
		return send, "status " + list[0], nil
	}
	return send, "rstatus " + strings.Join(list, "|"), nil
}

// checkOptions: the server-line part of an enabled monitor.
func checkOptions(hm *events.HealthMonitor, m events.Member) (string, error) {
	opt := "check"
	if hm.Type == monitorHTTPS {
		opt += " check-ssl verify none"
	}
	opt += " inter " + strconv.Itoa(hm.Delay) + "s fall " + strconv.Itoa(hm.MaxRetriesDown) + " rise " + strconv.Itoa(hm.MaxRetries)
	if m.MonitorAddress != nil && *m.MonitorAddress != "" {
		a, err := parseAddr("member "+m.ID+" monitor", *m.MonitorAddress)
		if err != nil {
			return "", err
		}
		opt += " addr " + hostOnly(a)
	}
	if m.MonitorPort != nil && *m.MonitorPort != 0 {
		if err := checkPort("member "+m.ID+" monitor", *m.MonitorPort); err != nil {
			return "", err
		}
		opt += " port " + strconv.Itoa(*m.MonitorPort)
	}
	return opt, nil
}
