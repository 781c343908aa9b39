package haproxy

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// quoteArg makes s one HAProxy configuration word. Plain words stay as they
// are; anything else is single-quoted (HAProxy interprets nothing inside
// single quotes: no '#' comment, no '$' variable, no backslash), a quote
// itself written as '\”. Control characters would end the line or confuse
// the parser: they are refused.
func quoteArg(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty value: %w", ErrInvalidConfig)
	}
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("control character in %q: %w", s, ErrInvalidConfig)
		}
		if !isPlain(c) {
			plain = false
		}
	}
	if plain {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

func isPlain(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~/:@!&*+,;=%?|^", c) >= 0
}

// safeToken checks a value spliced inside a HAProxy expression (a sample
// fetch argument, a log-format word) where quoting is not available.
var safeToken = regexp.MustCompile(`^[A-Za-z0-9!$%&*+.^_` + "`" + `|~-]+$`)

// cookieName validates a cookie name used in res.cook()/req.cook(): a
// comma or parenthesis would end the argument.
func cookieName(s string) (string, error) {
	if !safeToken.MatchString(s) {
		return "", fmt.Errorf("cookie name %q: %w", s, ErrInvalidConfig)
	}
	return s, nil
}

// validCiphers is Octavia's VALID_CIPHER_RE.
var validCiphers = regexp.MustCompile(`^[A-Za-z0-9\-+!:@=_.]+$`)

// hostPort renders an address and port, IPv6 in brackets.
func hostPort(addr netip.Addr, port int) string {
	return netip.AddrPortFrom(addr, uint16(port)).String()
}

// hostOnly renders an address without a port: HAProxy would read an IPv6
// address's last group as a port, so IPv6 goes in brackets.
func hostOnly(addr netip.Addr) string {
	if addr.Is6() {
		return "[" + addr.String() + "]"
	}
	return addr.String()
}

func parseAddr(what, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%s address %q: %w", what, s, ErrInvalidConfig)
	}
	return a.Unmap(), nil
}

func checkPort(what string, p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%s port %d: %w", what, p, ErrInvalidConfig)
	}
	return nil
}

// expectedCodes is Octavia's expand_expected_codes ("200-204", "200, 202")
// in numeric order, so the rendering is deterministic.
func expectedCodes(s string) ([]string, error) {
	bad := fmt.Errorf("expected_codes %q: %w", s, ErrInvalidConfig)
	set := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		l, err := code(lo)
		if err != nil {
			return nil, bad
		}
		h := l
		if isRange {
			if h, err = code(hi); err != nil || h < l {
				return nil, bad
			}
		}
		for c := l; c <= h; c++ {
			set[c] = true
		}
	}
	if len(set) == 0 {
		return nil, bad
	}
	codes := make([]int, 0, len(set))
	for c := range set {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = strconv.Itoa(c)
	}
	return out, nil
}

// code is one HTTP status code: three digits, 100 to 599.
func code(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || len(s) != 3 || n < 100 || n > 599 {
		return 0, ErrInvalidConfig
	}
	return n, nil
}

// headerOn is Octavia's insert_headers test: the value "true", any case.
func headerOn(h map[string]string, name string) bool {
	return strings.EqualFold(h[name], "true")
}
