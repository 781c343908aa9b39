// Package projections builds the read models the v2 API serves: Octavia
// shaped views of every object, kept in SQLite tables by a projector that
// folds the event stream (see projector.go), with its checkpoint updated in
// the same transaction as the rows.
package projections

import (
	"github.com/octavia-es/octavia-es/events"
)

// IDRef is Octavia's IdOnlyType: {"id": "..."}.
type IDRef struct {
	ID string `json:"id"`
}

// Time format of Octavia responses: second precision, no zone.
const TimeFormat = "2006-01-02T15:04:05"

// LoadBalancerView is the JSON of GET /v2/lbaas/loadbalancers/{id}.
type LoadBalancerView struct {
	ID                 string                 `json:"id"`
	Name               *string                `json:"name"`
	Description        *string                `json:"description"`
	ProvisioningStatus string                 `json:"provisioning_status"`
	OperatingStatus    string                 `json:"operating_status"`
	AdminStateUp       bool                   `json:"admin_state_up"`
	ProjectID          string                 `json:"project_id"`
	TenantID           string                 `json:"tenant_id"`
	CreatedAt          string                 `json:"created_at"`
	UpdatedAt          *string                `json:"updated_at"`
	VipAddress         *string                `json:"vip_address"`
	VipPortID          *string                `json:"vip_port_id"`
	VipSubnetID        *string                `json:"vip_subnet_id"`
	VipNetworkID       *string                `json:"vip_network_id"`
	AdditionalVips     []events.AdditionalVip `json:"additional_vips"`
	Listeners          []IDRef                `json:"listeners"`
	Pools              []IDRef                `json:"pools"`
	Provider           string                 `json:"provider"`
	FlavorID           *string                `json:"flavor_id"`
	VipQosPolicyID     *string                `json:"vip_qos_policy_id"`
	Tags               []string               `json:"tags"`
	AvailabilityZone   *string                `json:"availability_zone"`
}

// ListenerView is the JSON of GET /v2/lbaas/listeners/{id}.
type ListenerView struct {
	ID                      string            `json:"id"`
	Name                    *string           `json:"name"`
	Description             *string           `json:"description"`
	ProvisioningStatus      string            `json:"provisioning_status"`
	OperatingStatus         string            `json:"operating_status"`
	AdminStateUp            bool              `json:"admin_state_up"`
	Protocol                string            `json:"protocol"`
	ProtocolPort            int               `json:"protocol_port"`
	ConnectionLimit         int               `json:"connection_limit"`
	DefaultTLSContainerRef  *string           `json:"default_tls_container_ref"`
	SNIContainerRefs        []string          `json:"sni_container_refs"`
	ProjectID               string            `json:"project_id"`
	TenantID                string            `json:"tenant_id"`
	DefaultPoolID           *string           `json:"default_pool_id"`
	L7Policies              []IDRef           `json:"l7policies"`
	InsertHeaders           map[string]string `json:"insert_headers"`
	CreatedAt               string            `json:"created_at"`
	UpdatedAt               *string           `json:"updated_at"`
	LoadBalancers           []IDRef           `json:"loadbalancers"`
	TimeoutClientData       int               `json:"timeout_client_data"`
	TimeoutMemberConnect    int               `json:"timeout_member_connect"`
	TimeoutMemberData       int               `json:"timeout_member_data"`
	TimeoutTCPInspect       int               `json:"timeout_tcp_inspect"`
	Tags                    []string          `json:"tags"`
	ClientCATLSContainerRef *string           `json:"client_ca_tls_container_ref"`
	ClientAuthentication    string            `json:"client_authentication"`
	ClientCRLContainerRef   *string           `json:"client_crl_container_ref"`
	AllowedCIDRs            []string          `json:"allowed_cidrs"` // null when empty, as Octavia
	TLSCiphers              *string           `json:"tls_ciphers"`
	TLSVersions             []string          `json:"tls_versions"`
	ALPNProtocols           []string          `json:"alpn_protocols"`
}

// PoolView is the JSON of GET /v2/lbaas/pools/{id}.
type PoolView struct {
	ID                 string                     `json:"id"`
	Name               *string                    `json:"name"`
	Description        *string                    `json:"description"`
	ProvisioningStatus string                     `json:"provisioning_status"`
	OperatingStatus    string                     `json:"operating_status"`
	AdminStateUp       bool                       `json:"admin_state_up"`
	Protocol           string                     `json:"protocol"`
	LBAlgorithm        string                     `json:"lb_algorithm"`
	SessionPersistence *events.SessionPersistence `json:"session_persistence"`
	ProjectID          string                     `json:"project_id"`
	TenantID           string                     `json:"tenant_id"`
	LoadBalancers      []IDRef                    `json:"loadbalancers"`
	Listeners          []IDRef                    `json:"listeners"`
	CreatedAt          string                     `json:"created_at"`
	UpdatedAt          *string                    `json:"updated_at"`
	HealthMonitorID    *string                    `json:"healthmonitor_id"`
	Members            []IDRef                    `json:"members"`
	Tags               []string                   `json:"tags"`
	TLSContainerRef    *string                    `json:"tls_container_ref"`
	CATLSContainerRef  *string                    `json:"ca_tls_container_ref"`
	CRLContainerRef    *string                    `json:"crl_container_ref"`
	TLSEnabled         bool                       `json:"tls_enabled"`
	TLSCiphers         *string                    `json:"tls_ciphers"`
	TLSVersions        []string                   `json:"tls_versions"`
	ALPNProtocols      []string                   `json:"alpn_protocols"`
}

// MemberView is the JSON of GET /v2/lbaas/pools/{pool_id}/members/{id}.
type MemberView struct {
	ID                 string   `json:"id"`
	Name               *string  `json:"name"`
	OperatingStatus    string   `json:"operating_status"`
	ProvisioningStatus string   `json:"provisioning_status"`
	AdminStateUp       bool     `json:"admin_state_up"`
	Address            string   `json:"address"`
	ProtocolPort       int      `json:"protocol_port"`
	Weight             int      `json:"weight"`
	Backup             bool     `json:"backup"`
	SubnetID           *string  `json:"subnet_id"`
	ProjectID          string   `json:"project_id"`
	TenantID           string   `json:"tenant_id"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	MonitorAddress     *string  `json:"monitor_address"`
	MonitorPort        *int     `json:"monitor_port"`
	Tags               []string `json:"tags"`
}

// HealthMonitorView is the JSON of GET /v2/lbaas/healthmonitors/{id}.
type HealthMonitorView struct {
	ID                 string   `json:"id"`
	Name               *string  `json:"name"`
	ProvisioningStatus string   `json:"provisioning_status"`
	OperatingStatus    string   `json:"operating_status"`
	AdminStateUp       bool     `json:"admin_state_up"`
	Type               string   `json:"type"`
	Delay              int      `json:"delay"`
	Timeout            int      `json:"timeout"`
	MaxRetries         int      `json:"max_retries"`
	MaxRetriesDown     int      `json:"max_retries_down"`
	HTTPMethod         *string  `json:"http_method"`
	URLPath            *string  `json:"url_path"`
	ExpectedCodes      *string  `json:"expected_codes"`
	HTTPVersion        *float64 `json:"http_version"`
	DomainName         *string  `json:"domain_name"`
	ProjectID          string   `json:"project_id"`
	TenantID           string   `json:"tenant_id"`
	Pools              []IDRef  `json:"pools"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	Tags               []string `json:"tags"`
}

// Stats is the JSON object of .../stats ("stats": {...}).
type Stats struct {
	BytesIn           int64 `json:"bytes_in"`
	BytesOut          int64 `json:"bytes_out"`
	ActiveConnections int64 `json:"active_connections"`
	TotalConnections  int64 `json:"total_connections"`
	RequestErrors     int64 `json:"request_errors"`
}

// StatusTree is the "statuses" object of GET /loadbalancers/{id}/status.
type StatusTree struct {
	LoadBalancer LoadBalancerStatus `json:"loadbalancer"`
}

type LoadBalancerStatus struct {
	ID                 string           `json:"id"`
	Name               string           `json:"name"`
	OperatingStatus    string           `json:"operating_status"`
	ProvisioningStatus string           `json:"provisioning_status"`
	Listeners          []ListenerStatus `json:"listeners"`
}

type ListenerStatus struct {
	ID                 string       `json:"id"`
	Name               string       `json:"name"`
	OperatingStatus    string       `json:"operating_status"`
	ProvisioningStatus string       `json:"provisioning_status"`
	Pools              []PoolStatus `json:"pools"`
}

type PoolStatus struct {
	ID                 string               `json:"id"`
	Name               string               `json:"name"`
	ProvisioningStatus string               `json:"provisioning_status"`
	OperatingStatus    string               `json:"operating_status"`
	HealthMonitor      *HealthMonitorStatus `json:"health_monitor,omitempty"`
	Members            []MemberStatus       `json:"members"`
}

type HealthMonitorStatus struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Type               string `json:"type"`
	ProvisioningStatus string `json:"provisioning_status"`
	OperatingStatus    string `json:"operating_status"`
}

type MemberStatus struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	OperatingStatus    string `json:"operating_status"`
	ProvisioningStatus string `json:"provisioning_status"`
	Address            string `json:"address"`
	ProtocolPort       int    `json:"protocol_port"`
}
