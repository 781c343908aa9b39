package projections

// attrKind says how a query parameter's text is compared with an attribute.
type attrKind int

const (
	kText attrKind = iota
	kTime          // TimeFormat text; "YYYY-MM-DD HH:MM:SS" accepted too
	kInt
	kFloat
	kBool // oslo's bool_from_string, as Octavia converts admin_state_up
)

// attr is one attribute a list can filter and sort on: a column when the
// table has one (indexes serve it), else the value in the stored view
// (dialect.expr writes either).
type attr struct {
	expr    string // the column; "" for a field of the view
	doc     string // the view's field
	kind    attrKind
	notNull bool // never NULL, so it is compared bare (index usable)
}

func col(name string, k attrKind) attr { return attr{expr: "t." + name, kind: k, notNull: true} }
func nullableCol(name string, k attrKind) attr {
	return attr{expr: "t." + name, kind: k}
}
func docAttr(name string, k attrKind) attr {
	return attr{doc: name, kind: k}
}

// resource describes one table for list queries. attrs holds exactly the
// attributes Octavia accepts as filters (those of the data model, under
// their API names: api/common/pagination.py drops into InvalidFilterArgument
// any other) and as sort keys.
type resource struct {
	table table
	attrs map[string]attr
	// noTags: the model has no tags; Octavia ignores tag filters on it.
	noTags bool
}

// common attributes every resource has.
func commonAttrs(m map[string]attr) map[string]attr {
	m["id"] = col("id", kText)
	m["project_id"] = col("project_id", kText)
	m["name"] = col("name", kText)
	m["provisioning_status"] = col("provisioning_status", kText)
	m["operating_status"] = col("operating_status", kText)
	m["created_at"] = col("created_at", kTime)
	m["updated_at"] = nullableCol("updated_at", kTime)
	m["admin_state_up"] = docAttr("admin_state_up", kBool)
	return m
}

var loadBalancers = resource{table: tLoadBalancers, attrs: commonAttrs(map[string]attr{
	"description":       docAttr("description", kText),
	"vip_address":       docAttr("vip_address", kText),
	"vip_port_id":       docAttr("vip_port_id", kText),
	"vip_subnet_id":     docAttr("vip_subnet_id", kText),
	"vip_network_id":    docAttr("vip_network_id", kText),
	"vip_qos_policy_id": docAttr("vip_qos_policy_id", kText),
	"provider":          docAttr("provider", kText),
	"flavor_id":         docAttr("flavor_id", kText),
	"availability_zone": docAttr("availability_zone", kText),
})}

var listeners = resource{table: tListeners, attrs: commonAttrs(map[string]attr{
	"description":                 docAttr("description", kText),
	"loadbalancer_id":             col("loadbalancer_id", kText),
	"default_pool_id":             docAttr("default_pool_id", kText),
	"protocol":                    docAttr("protocol", kText),
	"protocol_port":               docAttr("protocol_port", kInt),
	"connection_limit":            docAttr("connection_limit", kInt),
	"default_tls_container_ref":   docAttr("default_tls_container_ref", kText),
	"timeout_client_data":         docAttr("timeout_client_data", kInt),
	"timeout_member_connect":      docAttr("timeout_member_connect", kInt),
	"timeout_member_data":         docAttr("timeout_member_data", kInt),
	"timeout_tcp_inspect":         docAttr("timeout_tcp_inspect", kInt),
	"client_ca_tls_container_ref": docAttr("client_ca_tls_container_ref", kText),
	"client_authentication":       docAttr("client_authentication", kText),
	"client_crl_container_ref":    docAttr("client_crl_container_ref", kText),
	"tls_ciphers":                 docAttr("tls_ciphers", kText),
})}

var pools = resource{table: tPools, attrs: commonAttrs(map[string]attr{
	"description":          docAttr("description", kText),
	"loadbalancer_id":      col("loadbalancer_id", kText),
	"protocol":             docAttr("protocol", kText),
	"lb_algorithm":         docAttr("lb_algorithm", kText),
	"healthmonitor_id":     docAttr("healthmonitor_id", kText),
	"tls_container_ref":    docAttr("tls_container_ref", kText),
	"ca_tls_container_ref": docAttr("ca_tls_container_ref", kText),
	"crl_container_ref":    docAttr("crl_container_ref", kText),
	"tls_enabled":          docAttr("tls_enabled", kBool),
	"tls_ciphers":          docAttr("tls_ciphers", kText),
})}

var members = resource{table: tMembers, attrs: commonAttrs(map[string]attr{
	"pool_id":         col("pool_id", kText),
	"address":         docAttr("address", kText),
	"protocol_port":   docAttr("protocol_port", kInt),
	"weight":          docAttr("weight", kInt),
	"backup":          docAttr("backup", kBool),
	"subnet_id":       docAttr("subnet_id", kText),
	"monitor_address": docAttr("monitor_address", kText),
	"monitor_port":    docAttr("monitor_port", kInt),
})}

var healthMonitors = resource{table: tHealthMonitors, attrs: commonAttrs(map[string]attr{
	"pool_id":          col("pool_id", kText),
	"type":             docAttr("type", kText),
	"delay":            docAttr("delay", kInt),
	"timeout":          docAttr("timeout", kInt),
	"max_retries":      docAttr("max_retries", kInt),
	"max_retries_down": docAttr("max_retries_down", kInt),
	"http_method":      docAttr("http_method", kText),
	"url_path":         docAttr("url_path", kText),
	"expected_codes":   docAttr("expected_codes", kText),
	"http_version":     docAttr("http_version", kFloat),
	"domain_name":      docAttr("domain_name", kText),
})}

// amphorae: the attributes of Octavia's Amphora data model (loadbalancer_id
// is translated to load_balancer_id, both accepted) plus project_id, which
// Octavia applies to the amphora's load balancer.
var amphorae = resource{table: tAmphorae, noTags: true, attrs: map[string]attr{
	"id":               col("id", kText),
	"project_id":       col("project_id", kText),
	"loadbalancer_id":  col("loadbalancer_id", kText),
	"load_balancer_id": col("loadbalancer_id", kText),
	"compute_id":       col("compute_id", kText),
	"status":           col("status", kText),
	"role":             nullableCol("role", kText),
	"lb_network_ip":    nullableCol("lb_network_ip", kText),
	"created_at":       col("created_at", kTime),
	"updated_at":       nullableCol("updated_at", kTime),
	"vrrp_ip":          docAttr("vrrp_ip", kText),
	"ha_ip":            docAttr("ha_ip", kText),
	"vrrp_port_id":     docAttr("vrrp_port_id", kText),
	"ha_port_id":       docAttr("ha_port_id", kText),
	"cert_expiration":  docAttr("cert_expiration", kTime),
	"cert_busy":        docAttr("cert_busy", kBool),
	"vrrp_interface":   docAttr("vrrp_interface", kText),
	"vrrp_id":          docAttr("vrrp_id", kInt),
	"vrrp_priority":    docAttr("vrrp_priority", kInt),
	"cached_zone":      docAttr("cached_zone", kText),
	"image_id":         docAttr("image_id", kText),
	"compute_flavor":   docAttr("compute_flavor", kText),
}}
