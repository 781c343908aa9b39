package v2

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

func (a *API) loadBalancerRoutes(r chi.Router) {
	r.Get("/", a.listLoadBalancers)
	r.Post("/", a.createLoadBalancer)
	r.Get("/{id}", a.asOf(a.getLoadBalancer, a.getLoadBalancerAsOf))
	r.Put("/{id}", a.updateLoadBalancer)
	r.Delete("/{id}", a.deleteLoadBalancer)
	r.Get("/{id}/status", a.asOf(a.loadBalancerStatus, a.loadBalancerStatusAsOf))
	r.Get("/{id}/statuses", a.asOf(a.loadBalancerStatus, a.loadBalancerStatusAsOf)) // neutron-lbaas alias Octavia keeps
	r.Get("/{id}/events", a.withHistory(a.loadBalancerEvents))
	r.Get("/{id}/stats", a.loadBalancerStats)
	r.Put("/{id}/failover", a.failoverLoadBalancer)
}

func (a *API) listLoadBalancers(w http.ResponseWriter, r *http.Request) {
	a.list(w, r, "loadbalancers", a.read.ListLoadBalancersRaw)
}

func (a *API) getLoadBalancer(w http.ResponseWriter, r *http.Request) {
	getOne(a, w, r, "loadbalancer", a.readLoadBalancer)
}

// readLoadBalancer is GET of one load balancer, visible to the caller.
func (a *API) readLoadBalancer(ctx context.Context, id string) (projections.LoadBalancerView, *fault.Error) {
	return readVisible(a, ctx, resLoadBalancer, id, a.read.GetLoadBalancer, func(v projections.LoadBalancerView) string { return v.ProjectID })
}

// visible: a caller that is not admin sees its own project only.
func (a *API) visible(ctx context.Context, projectID string) *fault.Error {
	if id := identity(ctx); !id.IsAdmin && id.ProjectID != projectID {
		return forbidden()
	}
	return nil
}

// fieldsParam is ?fields= (repeatable); nil when absent.
func fieldsParam(r *http.Request) []string {
	vs, ok := r.URL.Query()["fields"]
	if !ok {
		return nil
	}
	return append([]string{}, vs...)
}

func (a *API) createLoadBalancer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	root, ferr := body{arg: "load_balancer", root: rootType("loadbalancer", loadBalancerPOST)}.decode(r)
	var lb *record
	if ferr == nil {
		lb, ferr = resource(root, "loadbalancer")
	}
	if ferr == nil {
		ferr = checkGraphL7(lb)
	}
	var spec events.LoadBalancer
	if ferr == nil {
		spec, ferr = a.loadBalancerSpec(ctx, lb)
	}
	var vip *events.VipAllocated
	if ferr == nil {
		vip, ferr = a.allocateVIP(ctx, spec)
	}
	var res loadbalancer.Result
	if ferr == nil {
		res, ferr = a.recordLoadBalancer(ctx, lb, spec, vip)
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	// LoadBalancerFullRootResponse: listeners and pools as whole objects.
	a.writeOne(w, r, http.StatusCreated, "loadbalancer", renderLoadBalancerFull(res.State), nil)
}

// recordLoadBalancer builds the listeners and pools of the POST, if any,
// and executes the create with the VIP the API allocated; the VIP is freed
// again unless the create was stored.
func (a *API) recordLoadBalancer(ctx context.Context, rec *record, spec events.LoadBalancer, vip *events.VipAllocated) (loadbalancer.Result, *fault.Error) {
	cmd := loadbalancer.CreateLoadBalancer{Spec: spec, Vip: vip}
	withVIP := spec
	if vip != nil {
		withVIP.VipAddress = &vip.VipAddress
	}
	var ferr *fault.Error
	if cmd.Pools, cmd.Listeners, ferr = a.loadBalancerGraph(ctx, rec, withVIP); ferr != nil {
		a.releaseVIP(ctx, vip)
		return loadbalancer.Result{}, ferr
	}
	res, err := a.commands.Execute(ctx, spec.ID, cmd, metadata(ctx))
	if err != nil {
		if !a.createRecorded(ctx, spec.ID, err) {
			a.releaseVIP(ctx, vip)
		}
		return res, a.commandError(ctx, spec.ID, err)
	}
	return res, nil
}

// loadBalancerSpec validates a POST as Octavia's LoadBalancersController.post
// does, in its order, and builds the complete spec.
func (a *API) loadBalancerSpec(ctx context.Context, lb *record) (events.LoadBalancer, *fault.Error) {
	var spec events.LoadBalancer
	caller := identity(ctx)
	project := lb.strOr("project_id", "")
	if project == "" {
		project = caller.ProjectID
	}
	if project == "" {
		return spec, fault.Validation("Missing project ID in request where one is required. " +
			"An administrator should check the keystone settings in the Octavia configuration.")
	}
	if !caller.IsAdmin && project != caller.ProjectID {
		return spec, forbidden()
	}
	spec = events.LoadBalancer{
		ID:           a.newID(),
		ProjectID:    project,
		Name:         lb.str("name"),
		Description:  lb.str("description"),
		AdminStateUp: lb.boolOr("admin_state_up", true),
		Tags:         lb.strings("tags"),
	}
	if ferr := a.vip(ctx, lb, &spec); ferr != nil {
		return spec, ferr
	}
	// No flavors or availability zones exist here: Octavia answers these
	// for any it cannot find.
	if lb.has("flavor_id") {
		return spec, fault.Validation("Invalid flavor_id.")
	}
	if lb.has("availability_zone") {
		return spec, fault.Validation("Invalid availability zone.")
	}
	provider, ferr := a.providers.resolve(lb)
	if ferr != nil {
		return spec, ferr
	}
	spec.Provider = provider
	return spec, nil
}

// vip is Octavia's _validate_vip_request_object against the network
// driver's subnets. There are no ports and no QoS policies here.
func (a *API) vip(ctx context.Context, lb *record, spec *events.LoadBalancer) *fault.Error {
	portID, netID, subnetID := lb.strOr("vip_port_id", ""), lb.strOr("vip_network_id", ""), lb.strOr("vip_subnet_id", "")
	address := lb.str("vip_address")
	if portID == "" && netID == "" && subnetID == "" {
		return fault.Validation("VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")
	}
	switch {
	case portID != "":
		return fault.BadRequest("Port %s not found.", portID)
	case netID != "":
		subnets, ferr := a.networkSubnets(ctx, netID)
		if ferr != nil {
			return ferr
		}
		if subnetID != "" {
			found := false
			for _, s := range subnets {
				found = found || s.ID == subnetID
			}
			if !found {
				return fault.BadRequest("Subnet %s not found.", subnetID)
			}
		} else if address != nil {
			subnetID = subnetContaining(subnets, *address)
			if subnetID == "" {
				return fault.Validation("Supplied network does not contain a subnet for VIP address specified.")
			}
		} else {
			subnetID = preferIPv4(subnets)
		}
	default:
		s, ferr := a.subnet(ctx, subnetID)
		if ferr != nil {
			return ferr
		}
		netID = s.NetworkID
	}
	if lb.str("vip_qos_policy_id") != nil {
		return fault.Validation("VIP QoS policy is not allowed in this deployment.")
	}
	spec.VipSubnetID, spec.VipNetworkID, spec.VipAddress = ptr(subnetID), ptr(netID), address
	return a.additionalVips(ctx, lb, spec)
}

// additionalVips is Octavia's _validate_subnets_share_network_but_no_duplicates.
func (a *API) additionalVips(ctx context.Context, lb *record, spec *events.LoadBalancer) *fault.Error {
	used := map[string]bool{*spec.VipSubnetID: true}
	extra := lb.records("additional_vips")
	for _, v := range extra {
		id := v.strOr("subnet_id", "")
		if used[id] {
			return fault.Validation("Duplicate VIP subnet(s) specified. Only one IP can be bound per subnet.")
		}
		used[id] = true
	}
	spec.AdditionalVips = []events.AdditionalVip{}
	for _, v := range extra {
		s, ferr := a.subnet(ctx, v.strOr("subnet_id", ""))
		if ferr != nil {
			return ferr
		}
		if s.NetworkID != *spec.VipNetworkID {
			return fault.Validation("All VIP subnets must belong to the same network.")
		}
		spec.AdditionalVips = append(spec.AdditionalVips, events.AdditionalVip{SubnetID: s.ID, IPAddress: v.str("ip_address")})
	}
	return nil
}

func subnetContaining(subnets []Subnet, address string) string {
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return ""
	}
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil && p.Masked().Contains(ip) {
			return s.ID
		}
	}
	return ""
}

// preferIPv4 picks the network's first IPv4 subnet, else its first one.
func preferIPv4(subnets []Subnet) string {
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil && p.Addr().Is4() {
			return s.ID
		}
	}
	return subnets[0].ID
}

func (a *API) updateLoadBalancer(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	root, ferr := body{arg: "load_balancer", root: rootType("loadbalancer", loadBalancerPUT)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	lb, ferr := resource(root, "loadbalancer")
	if ferr == nil {
		_, ferr = a.loadForWrite(ctx, id)
	}
	if ferr == nil && lb.has("vip_qos_policy_id") {
		ferr = fault.Validation("VIP QoS policy is not allowed in this deployment.")
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	p, err := patch(lb, nullDefaults(lb, nil))
	if err != nil {
		fault.Write(w, a.internal(ctx, "build patch", err))
		return
	}
	res, ferr := a.execute(ctx, id, loadbalancer.UpdateLoadBalancer{Patch: p})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	a.writeOne(w, r, http.StatusOK, "loadbalancer", projections.RenderLoadBalancer(res.State), nil)
}

func (a *API) deleteLoadBalancer(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r, "cascade")
	if ferr == nil {
		_, ferr = a.loadForWrite(ctx, id)
	}
	if ferr == nil {
		cascade := boolFromString(r.URL.Query().Get("cascade"))
		_, ferr = a.execute(ctx, id, loadbalancer.DeleteLoadBalancer{Cascade: cascade})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusNoContent)
}

func (a *API) failoverLoadBalancer(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	_, ferr := a.loadForWrite(ctx, id)
	if ferr == nil {
		_, ferr = a.execute(ctx, id, loadbalancer.FailoverLoadBalancer{})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusAccepted)
}

func (a *API) loadBalancerStatus(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r)
	if ferr == nil {
		_, ferr = a.readLoadBalancer(ctx, id)
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	tree, err := a.read.StatusTree(ctx, id)
	if err != nil {
		fault.Write(w, a.readError(ctx, err, fault.NotFound(resLoadBalancer, id)))
		return
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"statuses": tree})
}

func (a *API) loadBalancerStats(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "id")
	ferr := checkParams(r)
	if ferr == nil {
		_, ferr = a.readLoadBalancer(ctx, id)
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	st, err := a.read.LoadBalancerStats(ctx, id)
	if err != nil {
		fault.Write(w, a.readError(ctx, err, fault.NotFound(resLoadBalancer, id)))
		return
	}
	fault.WriteJSON(w, http.StatusOK, map[string]any{"stats": st})
}
