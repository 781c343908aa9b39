package events

// Resource specs: the configuration a tenant gives each object, as recorded in
// events. JSON names are Octavia's, so a spec marshals to the attribute subset
// of Octavia's response. Statuses and timestamps are not part of a spec: they
// are derived from the events themselves. Nullable Octavia attributes are
// pointers (nil = JSON null).

// LoadBalancer is a load balancer's configuration.
type LoadBalancer struct {
	ID               string          `json:"id"`
	ProjectID        string          `json:"project_id"`
	Name             *string         `json:"name"`
	Description      *string         `json:"description"`
	AdminStateUp     bool            `json:"admin_state_up"`
	VipAddress       *string         `json:"vip_address"`
	VipPortID        *string         `json:"vip_port_id"`
	VipSubnetID      *string         `json:"vip_subnet_id"`
	VipNetworkID     *string         `json:"vip_network_id"`
	VipQosPolicyID   *string         `json:"vip_qos_policy_id"`
	AdditionalVips   []AdditionalVip `json:"additional_vips"`
	Provider         string          `json:"provider"`
	FlavorID         *string         `json:"flavor_id"`
	AvailabilityZone *string         `json:"availability_zone"`
	Tags             []string        `json:"tags"`
}

// AdditionalVip is one entry of a load balancer's additional_vips.
type AdditionalVip struct {
	SubnetID  string  `json:"subnet_id"`
	IPAddress *string `json:"ip_address"`
}

// Listener is a listener's configuration. Secrets are never recorded: TLS
// attributes hold container references only.
type Listener struct {
	ID                      string            `json:"id"`
	ProjectID               string            `json:"project_id"`
	LoadBalancerID          string            `json:"loadbalancer_id"`
	Name                    *string           `json:"name"`
	Description             *string           `json:"description"`
	AdminStateUp            bool              `json:"admin_state_up"`
	Protocol                string            `json:"protocol"`
	ProtocolPort            int               `json:"protocol_port"`
	ConnectionLimit         int               `json:"connection_limit"`
	DefaultTLSContainerRef  *string           `json:"default_tls_container_ref"`
	SNIContainerRefs        []string          `json:"sni_container_refs"`
	DefaultPoolID           *string           `json:"default_pool_id"`
	InsertHeaders           map[string]string `json:"insert_headers"`
	TimeoutClientData       int               `json:"timeout_client_data"`
	TimeoutMemberConnect    int               `json:"timeout_member_connect"`
	TimeoutMemberData       int               `json:"timeout_member_data"`
	TimeoutTCPInspect       int               `json:"timeout_tcp_inspect"`
	Tags                    []string          `json:"tags"`
	ClientCATLSContainerRef *string           `json:"client_ca_tls_container_ref"`
	ClientAuthentication    string            `json:"client_authentication"`
	ClientCRLContainerRef   *string           `json:"client_crl_container_ref"`
	AllowedCIDRs            []string          `json:"allowed_cidrs"`
	TLSCiphers              *string           `json:"tls_ciphers"`
	TLSVersions             []string          `json:"tls_versions"`
	ALPNProtocols           []string          `json:"alpn_protocols"`
}

// SessionPersistence is a pool's session_persistence object.
type SessionPersistence struct {
	Type                   string  `json:"type"`
	CookieName             *string `json:"cookie_name"`
	PersistenceTimeout     *int    `json:"persistence_timeout"`
	PersistenceGranularity *string `json:"persistence_granularity"`
}

// Pool is a pool's configuration. ListenerID is the listener it was created
// for ("" when created on the load balancer only); listeners also reference
// pools through default_pool_id.
type Pool struct {
	ID                 string              `json:"id"`
	ProjectID          string              `json:"project_id"`
	LoadBalancerID     string              `json:"loadbalancer_id"`
	ListenerID         string              `json:"listener_id,omitempty"`
	Name               *string             `json:"name"`
	Description        *string             `json:"description"`
	AdminStateUp       bool                `json:"admin_state_up"`
	Protocol           string              `json:"protocol"`
	LBAlgorithm        string              `json:"lb_algorithm"`
	SessionPersistence *SessionPersistence `json:"session_persistence"`
	Tags               []string            `json:"tags"`
	TLSContainerRef    *string             `json:"tls_container_ref"`
	CATLSContainerRef  *string             `json:"ca_tls_container_ref"`
	CRLContainerRef    *string             `json:"crl_container_ref"`
	TLSEnabled         bool                `json:"tls_enabled"`
	TLSCiphers         *string             `json:"tls_ciphers"`
	TLSVersions        []string            `json:"tls_versions"`
	ALPNProtocols      []string            `json:"alpn_protocols"`
}

// Member is a pool member's configuration.
type Member struct {
	ID             string   `json:"id"`
	ProjectID      string   `json:"project_id"`
	PoolID         string   `json:"pool_id"`
	Name           *string  `json:"name"`
	AdminStateUp   bool     `json:"admin_state_up"`
	Address        string   `json:"address"`
	ProtocolPort   int      `json:"protocol_port"`
	Weight         int      `json:"weight"`
	Backup         bool     `json:"backup"`
	SubnetID       *string  `json:"subnet_id"`
	MonitorAddress *string  `json:"monitor_address"`
	MonitorPort    *int     `json:"monitor_port"`
	Tags           []string `json:"tags"`
}

// HealthMonitor is a health monitor's configuration.
type HealthMonitor struct {
	ID             string   `json:"id"`
	ProjectID      string   `json:"project_id"`
	PoolID         string   `json:"pool_id"`
	Name           *string  `json:"name"`
	AdminStateUp   bool     `json:"admin_state_up"`
	Type           string   `json:"type"`
	Delay          int      `json:"delay"`
	Timeout        int      `json:"timeout"`
	MaxRetries     int      `json:"max_retries"`
	MaxRetriesDown int      `json:"max_retries_down"`
	HTTPMethod     *string  `json:"http_method"`
	URLPath        *string  `json:"url_path"`
	ExpectedCodes  *string  `json:"expected_codes"`
	HTTPVersion    *float64 `json:"http_version"`
	DomainName     *string  `json:"domain_name"`
	Tags           []string `json:"tags"`
}
