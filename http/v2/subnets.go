package v2

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/http/fault"
)

// subnet returns subnet id or Octavia's InvalidSubresource (400
// "Subnet <id> not found.").
func (a *API) subnet(ctx context.Context, id string) (Subnet, *fault.Error) {
	s, found, err := a.subnets.GetSubnet(ctx, id)
	if err != nil {
		return Subnet{}, a.internal(ctx, "get subnet", err)
	}
	if !found {
		return Subnet{}, fault.BadRequest("Subnet %s not found.", id)
	}
	return s, nil
}

// networkSubnets are the subnets of network id, or InvalidSubresource (400
// "Network <id> not found.") when it has none.
func (a *API) networkSubnets(ctx context.Context, id string) ([]Subnet, *fault.Error) {
	all, err := a.subnets.ListSubnets(ctx)
	if err != nil {
		return nil, a.internal(ctx, "list subnets", err)
	}
	var out []Subnet
	for _, s := range all {
		if s.NetworkID == id {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fault.BadRequest("Network %s not found.", id)
	}
	return out, nil
}

// --- Neutron read-only shim --------------------------------------------------
//
// The openstack CLI resolves --vip-subnet-id, --subnet-id and friends
// through the Network API at the same endpoint (python-neutronclient:
// GET /v2.0/subnets?id=X, then ?name=X). These answer from the network
// driver's subnets; ports and QoS policies do not exist here.

// NeutronRoutes mounts the shim on r (the /v2.0 router).
func (a *API) NeutronRoutes(r chi.Router) {
	r.Get("/subnets", a.listNeutronSubnets)
	r.Get("/subnets/{id}", a.getNeutronSubnet)
	r.Get("/networks", a.listNeutronNetworks)
	r.Get("/networks/{id}", a.getNeutronNetwork)
	r.Get("/ports", emptyNeutronList("ports"))
	r.Get("/ports/{id}", neutronNotFound("PortNotFound", "Port"))
	r.Get("/qos/policies", emptyNeutronList("policies"))
	r.Get("/qos/policies/{id}", neutronNotFound("QosPolicyNotFound", "QoS policy"))
}

type neutronSubnet struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	TenantID        string           `json:"tenant_id"`
	ProjectID       string           `json:"project_id"`
	NetworkID       string           `json:"network_id"`
	IPVersion       int              `json:"ip_version"`
	SubnetpoolID    *string          `json:"subnetpool_id"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	IPv6RAMode      *string          `json:"ipv6_ra_mode"`
	IPv6AddressMode *string          `json:"ipv6_address_mode"`
	GatewayIP       *string          `json:"gateway_ip"`
	CIDR            string           `json:"cidr"`
	AllocationPools []allocationPool `json:"allocation_pools"`
	HostRoutes      []any            `json:"host_routes"`
	DNSNameservers  []string         `json:"dns_nameservers"`
	Description     string           `json:"description"`
	ServiceTypes    []string         `json:"service_types"`
	Tags            []string         `json:"tags"`
	RevisionNumber  int              `json:"revision_number"`
}

type allocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

func toNeutronSubnet(s Subnet) neutronSubnet {
	n := neutronSubnet{
		ID: s.ID, Name: s.Name, TenantID: s.ProjectID, ProjectID: s.ProjectID, NetworkID: s.NetworkID,
		IPVersion: s.IPVersion, EnableDHCP: true, CIDR: s.CIDR,
		AllocationPools: []allocationPool{}, HostRoutes: []any{}, DNSNameservers: []string{},
		ServiceTypes: []string{}, Tags: []string{},
	}
	if s.GatewayIP != "" {
		g := s.GatewayIP
		n.GatewayIP = &g
	}
	if p, err := netip.ParsePrefix(s.CIDR); err == nil {
		if n.IPVersion == 0 {
			n.IPVersion = 4
			if p.Addr().Is6() {
				n.IPVersion = 6
			}
		}
		if pool, ok := allocationRange(p.Masked(), s.GatewayIP); ok {
			n.AllocationPools = []allocationPool{pool}
		}
	}
	return n
}

// allocationRange is Neutron's default pool: the subnet's host addresses
// without the network, broadcast (IPv4) and gateway addresses at its ends.
func allocationRange(p netip.Prefix, gateway string) (allocationPool, bool) {
	first := p.Addr().Next()
	last := lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev()
	}
	if gw, err := netip.ParseAddr(gateway); err == nil {
		if gw == first {
			first = first.Next()
		} else if gw == last {
			last = last.Prev()
		}
	}
	if !first.IsValid() || !last.IsValid() || last.Less(first) {
		return allocationPool{}, false
	}
	return allocationPool{Start: first.String(), End: last.String()}, true
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		hostBits := len(b)*8 - p.Bits() - (len(b)-1-i)*8
		switch {
		case hostBits >= 8:
			b[i] = 0xff
		case hostBits > 0:
			b[i] |= byte(1<<hostBits - 1)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// neutronMatch is Neutron's list filtering: every filtered attribute must
// equal one of the given values.
func neutronMatch(q url.Values, attrs map[string]string) bool {
	for k, vs := range q {
		if k == "fields" {
			continue
		}
		v, known := attrs[k]
		if !known {
			continue // Neutron ignores filters on attributes it does not filter on
		}
		if !contains(vs, v) {
			return false
		}
	}
	return true
}

func subnetAttrs(n neutronSubnet) map[string]string {
	gw := ""
	if n.GatewayIP != nil {
		gw = *n.GatewayIP
	}
	return map[string]string{
		"id": n.ID, "name": n.Name, "network_id": n.NetworkID, "cidr": n.CIDR,
		"ip_version": strconv.Itoa(n.IPVersion), "project_id": n.ProjectID, "tenant_id": n.TenantID,
		"gateway_ip": gw, "enable_dhcp": "True",
	}
}

func (a *API) listNeutronSubnets(w http.ResponseWriter, r *http.Request) {
	all, err := a.subnets.ListSubnets(r.Context())
	if err != nil {
		fault.Write(w, a.internal(r.Context(), "list subnets", err))
		return
	}
	q := r.URL.Query()
	out := []any{}
	for _, s := range all {
		n := toNeutronSubnet(s)
		if neutronMatch(q, subnetAttrs(n)) {
			obj, _ := selectFields(n, q["fields"])
			out = append(out, obj)
		}
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"subnets": out})
}

func (a *API) getNeutronSubnet(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	s, found, err := a.subnets.GetSubnet(r.Context(), id)
	if err != nil {
		fault.Write(w, a.internal(r.Context(), "get subnet", err))
		return
	}
	if !found {
		writeNeutronError(w, http.StatusNotFound, "SubnetNotFound", "Subnet "+id+" could not be found.")
		return
	}
	obj, _ := selectFields(toNeutronSubnet(s), r.URL.Query()["fields"])
	fault.WriteJSON(w, http.StatusOK, map[string]any{"subnet": obj})
}

type neutronNetwork struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	TenantID              string   `json:"tenant_id"`
	ProjectID             string   `json:"project_id"`
	AdminStateUp          bool     `json:"admin_state_up"`
	Status                string   `json:"status"`
	Shared                bool     `json:"shared"`
	RouterExternal        bool     `json:"router:external"`
	Subnets               []string `json:"subnets"`
	MTU                   int      `json:"mtu"`
	AvailabilityZones     []string `json:"availability_zones"`
	AvailabilityZoneHints []string `json:"availability_zone_hints"`
	Description           string   `json:"description"`
	Tags                  []string `json:"tags"`
	RevisionNumber        int      `json:"revision_number"`
}

// networks groups the subnets by network, in subnet order.
func (a *API) networks(ctx context.Context) ([]neutronNetwork, error) {
	all, err := a.subnets.ListSubnets(ctx)
	if err != nil {
		return nil, err
	}
	var out []neutronNetwork
	index := map[string]int{}
	for _, s := range all {
		if s.NetworkID == "" {
			continue
		}
		i, ok := index[s.NetworkID]
		if !ok {
			i = len(out)
			index[s.NetworkID] = i
			out = append(out, neutronNetwork{
				ID: s.NetworkID, TenantID: s.ProjectID, ProjectID: s.ProjectID, AdminStateUp: true,
				Status: "ACTIVE", MTU: 1500, Subnets: []string{}, AvailabilityZones: []string{},
				AvailabilityZoneHints: []string{}, Tags: []string{},
			})
		}
		out[i].Subnets = append(out[i].Subnets, s.ID)
	}
	return out, nil
}

func (a *API) listNeutronNetworks(w http.ResponseWriter, r *http.Request) {
	nets, err := a.networks(r.Context())
	if err != nil {
		fault.Write(w, a.internal(r.Context(), "list subnets", err))
		return
	}
	q := r.URL.Query()
	out := []any{}
	for _, n := range nets {
		attrs := map[string]string{"id": n.ID, "name": n.Name, "project_id": n.ProjectID, "tenant_id": n.TenantID, "status": n.Status}
		if neutronMatch(q, attrs) {
			obj, _ := selectFields(n, q["fields"])
			out = append(out, obj)
		}
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"networks": out})
}

func (a *API) getNeutronNetwork(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	nets, err := a.networks(r.Context())
	if err != nil {
		fault.Write(w, a.internal(r.Context(), "list subnets", err))
		return
	}
	for _, n := range nets {
		if n.ID == id {
			obj, _ := selectFields(n, r.URL.Query()["fields"])
			fault.WriteJSON(w, http.StatusOK, map[string]any{"network": obj})
			return
		}
	}
	writeNeutronError(w, http.StatusNotFound, "NetworkNotFound", "Network "+id+" could not be found.")
}

func emptyNeutronList(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fault.WriteJSON(w, http.StatusOK, map[string]any{key: []any{}})
	}
}

func neutronNotFound(typ, what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeNeutronError(w, http.StatusNotFound, typ, what+" "+chi.URLParam(r, "id")+" could not be found.")
	}
}

// writeNeutronError is Neutron's error body.
func writeNeutronError(w http.ResponseWriter, status int, typ, msg string) {
	fault.WriteJSON(w, status, map[string]any{
		"NeutronError": map[string]string{"type": typ, "message": msg, "detail": ""},
	})
}
