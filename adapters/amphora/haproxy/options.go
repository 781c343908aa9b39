package haproxy

// Defaults are Octavia 11's ([haproxy_amphora] and constants.py).
const (
	DefaultConnectionLimit      = 50000   // HAPROXY_DEFAULT_MAXCONN
	MaxConnLimit                = 1000000 // HAPROXY_MAX_MAXCONN
	DefaultTimeoutClientData    = 50000   // ms
	DefaultTimeoutMemberConnect = 5000    // ms
	DefaultTimeoutMemberData    = 50000   // ms
	DefaultTimeoutTCPInspect    = 0       // ms, 0 = no inspect delay
	DefaultStickSize            = "10k"
)

// Options are the amphora-side facts the Config does not carry.
type Options struct {
	// AmphoraID names the local peer (required when PeerPort is set).
	AmphoraID string

	// VIPAddress is the address listeners bind; "" = the load balancer's
	// vip_address. Additional VIPs with an address are bound as well.
	VIPAddress string

	// StatsSocket is the admin socket path (required). It is rendered with
	// "expose-fd listeners" so a reload hands the listening sockets over.
	StatsSocket string

	// StateFile is the server-state-file path; "" = no state file. The agent
	// dumps "show servers state" into it before a reload so member states
	// survive the reload.
	StateFile string

	// PeerPort > 0 adds a peers section with the local peer on
	// PeerAddress:PeerPort, so stick tables survive reloads (the old worker
	// pushes them to the new one). 0 = no peers.
	PeerPort int
	// PeerAddress is where the local peer listens; "" = the VIP address.
	PeerAddress string

	// DefaultConnectionLimit is a listener's maxconn when its
	// connection_limit is -1 (or 0); 0 = DefaultConnectionLimit (50000).
	DefaultConnectionLimit int

	// MaxConn caps the global maxconn (the sum of the listeners' limits);
	// 0 = MaxConnLimit (1000000). An unprivileged HAProxy cannot raise its
	// file limit: keep MaxConn below RLIMIT_NOFILE/2 there, or it refuses to
	// start ("Cannot raise FD limit").
	MaxConn int

	// NbThread sets nbthread; 0 = HAProxy's default (one per CPU).
	NbThread int

	// User and Group HAProxy drops to; "" = none (running unprivileged).
	User  string
	Group string

	// LogTarget: "" = no logging; "stdout" or "stderr" = raw logs on that
	// stream (the agent's own output); otherwise a syslog target as HAProxy
	// reads it, e.g. a unix socket path /run/…/log.
	LogTarget string

	// Certificates maps a listener id to the PEM file (certificate chain and
	// key) or directory of PEM files HAProxy serves for a TERMINATED_HTTPS
	// (or TLS PROMETHEUS) listener. A directory gives SNI: HAProxy picks the
	// certificate by name. A TLS listener missing here is refused with
	// ErrCertificateUnavailable.
	Certificates map[string]string

	// SNICertificates maps a listener id to more PEM files, served by SNI
	// after the default (Certificates): HAProxy picks the one whose names
	// match the client's server name, the first one otherwise.
	SNICertificates map[string][]string

	// ClientCAs and ClientCRLs map a listener id to the PEM file of the CA
	// certificates client certificates are verified against
	// (client_ca_tls_container_ref) and of its revocation list
	// (client_crl_container_ref). A listener naming one missing here is
	// refused with ErrCertificateUnavailable.
	ClientCAs  map[string]string
	ClientCRLs map[string]string

	// PoolCertificates, PoolCAs and PoolCRLs map a pool id to the PEM files
	// of a tls_enabled pool: the client certificate (and key) presented to
	// its members (tls_container_ref), the CA certificates members are
	// verified against (ca_tls_container_ref) and its revocation list
	// (crl_container_ref). A pool naming one missing here is refused with
	// ErrCertificateUnavailable.
	PoolCertificates map[string]string
	PoolCAs          map[string]string
	PoolCRLs         map[string]string

	// PingCommand is the external-check command PING monitors run (HAProxy
	// calls it with proxy address, proxy port, server address and port in
	// HAPROXY_SERVER_ADDR...); required only when a PING monitor is
	// rendered. PingWrapperScript is a suitable script.
	PingCommand string

	// StickSize is the stick-table size for SOURCE_IP and APP_COOKIE
	// persistence; "" = DefaultStickSize.
	StickSize string
}

// MaxConnForFileLimit is the largest MaxConn a HAProxy can run with when
// its open-file limit (RLIMIT_NOFILE's hard limit: HAProxy raises the soft
// one itself) is limit, for a HAProxy that cannot raise it further (an
// unprivileged one, or root in a container). Each connection takes two
// descriptors, and the splice options the configuration enables add a
// pipe (two more) per fourth connection; a reserve stays for listeners,
// health checks, logs and the stats sockets.
func MaxConnForFileLimit(limit uint64) int {
	reserve := 256 + limit/20
	if limit <= reserve {
		return 1
	}
	n := (limit - reserve) * 2 / 5
	if n > MaxConnLimit {
		return MaxConnLimit
	}
	return max(int(n), 1)
}

func (o Options) defaultConnectionLimit() int {
	if o.DefaultConnectionLimit > 0 {
		return o.DefaultConnectionLimit
	}
	return DefaultConnectionLimit
}

func (o Options) maxConn() int {
	if o.MaxConn > 0 {
		return o.MaxConn
	}
	return MaxConnLimit
}

func (o Options) stickSize() string {
	if o.StickSize != "" {
		return o.StickSize
	}
	return DefaultStickSize
}
