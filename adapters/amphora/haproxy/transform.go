package haproxy

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

// objectID: ids become proxy and server names; ':' is reserved for
// BackendName.
var objectID = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// stickSize is haproxy_stick_size: a count with an optional k, m, g suffix.
var stickSize = regexp.MustCompile(`^[1-9][0-9]*[kmg]?$`)

func checkID(what, id string) error {
	if !objectID.MatchString(id) {
		return fmt.Errorf("%s id %q: %w", what, id, ErrInvalidConfig)
	}
	return nil
}

// graph indexes a Config by pool.
type graph struct {
	pools    map[string]events.Pool
	members  map[string][]events.Member // pool id -> members, by id
	monitors map[string]events.HealthMonitor
}

func index(cfg amphora.Config) (graph, error) {
	g := graph{
		pools:    make(map[string]events.Pool, len(cfg.Pools)),
		members:  map[string][]events.Member{},
		monitors: map[string]events.HealthMonitor{},
	}
	for _, p := range cfg.Pools {
		if err := checkID("pool", p.ID); err != nil {
			return g, err
		}
		// Every pool, rendered or not: a protocol this provider cannot serve
		// is an error, never a silent omission.
		if _, ok := poolModes[p.Protocol]; !ok {
			return g, fmt.Errorf("pool %s: protocol %q: %w", p.ID, p.Protocol, ErrUnsupportedProtocol)
		}
		g.pools[p.ID] = p
	}
	for _, m := range cfg.Members {
		if err := checkID("member", m.ID); err != nil {
			return g, err
		}
		g.members[m.PoolID] = append(g.members[m.PoolID], m)
	}
	for id := range g.members {
		slices.SortFunc(g.members[id], func(a, b events.Member) int { return cmp.Compare(a.ID, b.ID) })
	}
	monitors := slices.Clone(cfg.HealthMonitors)
	slices.SortFunc(monitors, func(a, b events.HealthMonitor) int { return cmp.Compare(a.ID, b.ID) })
	for _, hm := range monitors {
		if _, dup := g.monitors[hm.PoolID]; !dup { // one per pool; the lowest id if not
			g.monitors[hm.PoolID] = hm
		}
	}
	return g, nil
}

// build turns a Config into the view the templates render.
func build(cfg amphora.Config, opts Options) (view, error) {
	lb := cfg.LoadBalancer
	if err := checkID("load balancer", lb.ID); err != nil {
		return view{}, err
	}
	g, err := index(cfg)
	if err != nil {
		return view{}, err
	}
	glob, err := buildGlobal(opts)
	if err != nil {
		return view{}, err
	}
	v := view{LoadBalancerID: lb.ID, Global: glob}

	listeners := slices.Clone(cfg.Listeners)
	slices.SortFunc(listeners, func(a, b events.Listener) int { return cmp.Compare(a.ID, b.ID) })
	var vips []netip.Addr
	if len(listeners) > 0 {
		if vips, err = vipAddresses(lb, opts); err != nil {
			return view{}, err
		}
	}
	ports := map[int]string{}
	sum := 0
	for _, l := range listeners {
		if other, dup := ports[l.ProtocolPort]; dup {
			return view{}, fmt.Errorf("listeners %s and %s both on port %d: %w", other, l.ID, l.ProtocolPort, ErrInvalidConfig)
		}
		ports[l.ProtocolPort] = l.ID
		lv, err := buildListener(lb, l, g, vips, opts)
		if err != nil {
			return view{}, err
		}
		sum += lv.MaxConn
		v.Prometheus = v.Prometheus || lv.Prometheus
		v.Listeners = append(v.Listeners, lv)
	}
	// Octavia: the global limit is the sum of the listeners' limits, within
	// (0, max]; here max is the caller's ceiling too.
	v.Global.MaxConn = opts.maxConn()
	if sum > 0 && sum < v.Global.MaxConn {
		v.Global.MaxConn = sum
	}

	stick := false
	for _, lv := range v.Listeners {
		if b := lv.Backend; b != nil {
			stick = stick || b.StickTable != ""
			v.Global.ExternalCheck = v.Global.ExternalCheck || (b.Check != nil && b.Check.ExternalCommand != "")
		}
	}
	if opts.PeerPort != 0 && stick {
		if v.Peers, err = buildPeers(lb.ID, vips, ports, opts); err != nil {
			return view{}, err
		}
		v.Global.LocalPeer = v.Peers.Peer
		for i := range v.Listeners {
			if b := v.Listeners[i].Backend; b != nil && b.StickTable != "" {
				b.StickTable += " peers " + v.Peers.Name
			}
		}
	}
	return v, nil
}

func buildGlobal(opts Options) (globalView, error) {
	var g globalView
	var err error
	if opts.StatsSocket == "" {
		return g, fmt.Errorf("Options.StatsSocket is required: %w", ErrInvalidConfig)
	}
	if g.StatsSocket, err = quoteArg(opts.StatsSocket); err != nil {
		return g, fmt.Errorf("stats socket: %w", err)
	}
	if opts.StateFile != "" {
		if g.StateFile, err = quoteArg(opts.StateFile); err != nil {
			return g, fmt.Errorf("state file: %w", err)
		}
	}
	if opts.User != "" {
		if g.User, err = quoteArg(opts.User); err != nil {
			return g, fmt.Errorf("user: %w", err)
		}
	}
	if opts.Group != "" {
		if g.Group, err = quoteArg(opts.Group); err != nil {
			return g, fmt.Errorf("group: %w", err)
		}
	}
	if opts.NbThread < 0 || opts.MaxConn < 0 || opts.DefaultConnectionLimit < 0 {
		return g, fmt.Errorf("negative nbthread, maxconn or connection limit: %w", ErrInvalidConfig)
	}
	g.NbThread = opts.NbThread
	switch opts.LogTarget {
	case "":
		g.NoLog = true
	case "stdout", "stderr":
		// Octavia's user (local0) and administrative (local1 notice) logs.
		g.Logs = []string{opts.LogTarget + " format raw local0", opts.LogTarget + " format raw local1 notice"}
	default:
		t, err := quoteArg(opts.LogTarget)
		if err != nil {
			return g, fmt.Errorf("log target: %w", err)
		}
		g.Logs = []string{t + " local0", t + " local1 notice"}
	}
	if opts.StickSize != "" && !stickSize.MatchString(opts.StickSize) {
		return g, fmt.Errorf("stick size %q: %w", opts.StickSize, ErrInvalidConfig)
	}
	return g, nil
}

// vipAddresses: the address listeners bind first, then the additional VIPs
// that have one.
func vipAddresses(lb events.LoadBalancer, opts Options) ([]netip.Addr, error) {
	addr := opts.VIPAddress
	if addr == "" && lb.VipAddress != nil {
		addr = *lb.VipAddress
	}
	if addr == "" {
		return nil, fmt.Errorf("load balancer %s has no VIP address to bind: %w", lb.ID, ErrInvalidConfig)
	}
	vip, err := parseAddr("VIP", addr)
	if err != nil {
		return nil, err
	}
	out := []netip.Addr{vip}
	for _, av := range lb.AdditionalVips {
		if av.IPAddress == nil || *av.IPAddress == "" {
			continue
		}
		a, err := parseAddr("additional VIP", *av.IPAddress)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func buildPeers(lbID string, vips []netip.Addr, ports map[int]string, opts Options) (*peersView, error) {
	if err := checkPort("peer", opts.PeerPort); err != nil {
		return nil, err
	}
	if opts.AmphoraID == "" {
		return nil, fmt.Errorf("Options.AmphoraID is required with a peer port: %w", ErrInvalidConfig)
	}
	addr := vips[0]
	if opts.PeerAddress != "" {
		a, err := parseAddr("peer", opts.PeerAddress)
		if err != nil {
			return nil, err
		}
		addr = a
	}
	if id, taken := ports[opts.PeerPort]; taken && addr == vips[0] {
		return nil, fmt.Errorf("peer port %d is listener %s's port: %w", opts.PeerPort, id, ErrInvalidConfig)
	}
	return &peersView{Name: peersName(lbID), Peer: PeerName(opts.AmphoraID), Address: hostPort(addr, opts.PeerPort)}, nil
}

// logFormat is Octavia's user_log_format for a listener: HTTP fields are
// blanked for non-HTTP listeners (HAProxy cannot log them there).
func logFormat(lb events.LoadBalancer, protocol string) (string, error) {
	f := logIDSafe(lb.ProjectID) + " " + logIDSafe(lb.ID) +
		" %f %ci %cp %t %{+Q}r %ST %B %U %[ssl_c_verify] %{+Q}[ssl_c_s_dn] %b %s %Tt %tsc"
	if protocol != protoHTTP && protocol != protoTerminatedHTTPS {
		for _, field := range []string{"%{+Q}r", "%r", "%{+Q}ST", "%ST"} {
			f = strings.ReplaceAll(f, field, "-")
		}
	}
	return quoteArg(f)
}

// logIDSafe keeps an id from being read as a log-format directive.
func logIDSafe(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x80 && isPlain(byte(r)) && r != '%' {
			return r
		}
		return '_'
	}, s)
}
