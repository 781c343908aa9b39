package haproxy

// The view the templates render: every decision is made in transform*.go,
// the templates only lay lines out.

type view struct {
	LoadBalancerID string
	Global         globalView
	Peers          *peersView
	Prometheus     bool
	Listeners      []listenerView
}

type globalView struct {
	User, Group   string
	Logs          []string // "log ..." arguments
	StatsSocket   string
	StateFile     string
	MaxConn       int
	NbThread      int
	LocalPeer     string
	ExternalCheck bool
	NoLog         bool
}

type peersView struct {
	Name    string
	Peer    string
	Address string // host:port
}

type listenerView struct {
	Name           string
	Disabled       bool
	MaxConn        int
	RedirectHTTPS  bool
	Binds          []string // "<addr>:<port>[ ssl ...]"
	Mode           string
	AllowedCIDRs   string // space separated, "" = everyone
	Prometheus     bool
	DefaultBackend string
	TimeoutClient  int
	InspectDelay   int
	LogFormat      string // one quoted word, "" = none
	Backend        *backendView

	IPv6 bool // the VIP is IPv6 (not rendered: picks stick-table key types)
}

type backendView struct {
	Name           string
	Disabled       bool
	Mode           string
	HTTPReuse      bool
	Balance        string
	StickTable     string   // "stick-table" arguments, "" = none
	StickRules     []string // "stick ..." lines
	Cookie         bool
	LoadState      bool
	Check          *checkView
	Headers        []string // "option forwardfor" / "http-request set-header ..." lines
	FullConn       int
	TimeoutConnect int
	TimeoutServer  int
	Servers        []string // "server" arguments
}

type checkView struct {
	Timeout         int // seconds
	HTTPSend        string
	HTTPExpect      string
	SSLHello        bool
	ExternalCommand string
}
