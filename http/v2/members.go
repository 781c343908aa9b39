package v2

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

type poolKey struct{}

func (a *API) memberRoutes(r chi.Router) {
	r.Use(a.poolScope)
	r.Get("/", a.listMembers)
	r.Post("/", a.createMember)
	r.Put("/", a.batchUpdateMembers)
	r.Get("/{member_id}", a.getMember)
	r.Put("/{member_id}", a.updateMember)
	r.Delete("/{member_id}", a.deleteMember)
}

// poolScope resolves /pools/{pool_id}/members: Octavia looks the pool up in
// its routing (_lookup), so an unknown pool is a pecan-shaped 404.
func (a *API) poolScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "pool_id")
		v, ferr := a.readPool(r.Context(), id)
		if ferr != nil {
			if ferr.Status == http.StatusNotFound {
				ferr = fault.NewPecan(http.StatusNotFound, "%s %s not found.", resPool, id)
			}
			fault.Write(w, ferr)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), poolKey{}, v)))
	})
}

func scopedPool(r *http.Request) projections.PoolView {
	v, _ := r.Context().Value(poolKey{}).(projections.PoolView)
	return v
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) {
	pool := scopedPool(r)
	a.list(w, r, "members", func(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
		return a.read.ListMembersRaw(ctx, pool.ID, o)
	}, fault.NotFound(resPool, pool.ID))
}

func (a *API) readMember(ctx context.Context, poolID, id string) (projections.MemberView, *fault.Error) {
	v, err := a.read.GetMember(ctx, poolID, id)
	if err != nil {
		return v, a.readError(ctx, err, fault.NotFound(resMember, id))
	}
	return v, a.visible(ctx, v.ProjectID)
}

func (a *API) getMember(w http.ResponseWriter, r *http.Request) {
	v, ferr := a.readMember(r.Context(), scopedPool(r).ID, chi.URLParam(r, "member_id"))
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	a.writeOne(w, r, http.StatusOK, "member", v, fieldsParam(r))
}

// memberGraph loads the graph of the scoped pool for a write.
func (a *API) memberGraph(r *http.Request) (loadbalancer.State, string, *loadbalancer.Node[events.Pool], *fault.Error) {
	pool := scopedPool(r)
	lbID := firstRef(pool.LoadBalancers)
	s, ferr := a.loadForWrite(r.Context(), lbID)
	if ferr != nil {
		return s, lbID, nil, ferr
	}
	n := s.Pools[pool.ID]
	if n == nil {
		return s, lbID, nil, fault.NotFound(resPool, pool.ID)
	}
	return s, lbID, n, nil
}

func (a *API) createMember(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	root, ferr := body{arg: "member_", root: rootType("member", memberPOST)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	m, ferr := resource(root, "member")
	if ferr == nil {
		ferr = mandatoryNotNull(m, "address", "protocol_port")
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	s, lbID, pool, ferr := a.memberGraph(r)
	if ferr == nil {
		ferr = a.checkNewMember(ctx, m, map[string]bool{})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	spec := memberSpec(m, a.newID(), s.LoadBalancer.Spec.ProjectID, pool.Spec.ID, nil)
	res, ferr := a.execute(ctx, lbID, loadbalancer.CreateMember{Spec: spec})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderMember(res.State, spec.ID)
	a.writeOne(w, r, http.StatusCreated, "member", view, nil)
}

// checkNewMember: the address may not be reserved and the subnet must
// exist (validated subnets are remembered across a batch, as Octavia does).
func (a *API) checkNewMember(ctx context.Context, m *record, validSubnets map[string]bool) *fault.Error {
	if ferr := memberAddressAllowed(m.strOr("address", "")); ferr != nil {
		return ferr
	}
	if sid := m.strOr("subnet_id", ""); sid != "" && !validSubnets[sid] {
		if _, ferr := a.subnet(ctx, sid); ferr != nil {
			return ferr
		}
		validSubnets[sid] = true
	}
	return nil
}

// memberSpec is a member's complete spec from a POST object. For a member a
// batch update matches (cur), attributes without a default that the request
// omits keep their current values, as Octavia's update does.
func memberSpec(m *record, id, projectID, poolID string, cur *events.Member) events.Member {
	spec := events.Member{
		ID:             id,
		ProjectID:      projectID,
		PoolID:         poolID,
		Name:           m.str("name"),
		AdminStateUp:   m.boolOr("admin_state_up", true),
		Address:        m.strOr("address", ""),
		ProtocolPort:   m.intOr("protocol_port", 0),
		Weight:         m.intOr("weight", defaultWeight),
		Backup:         m.boolOr("backup", false),
		SubnetID:       m.str("subnet_id"),
		MonitorAddress: m.str("monitor_address"),
		MonitorPort:    m.integer("monitor_port"),
		Tags:           m.strings("tags"),
	}
	if cur != nil {
		if !m.has("name") {
			spec.Name = cur.Name
		}
		if !m.has("subnet_id") {
			spec.SubnetID = cur.SubnetID
		}
		if !m.has("tags") {
			spec.Tags = cur.Tags
		}
	}
	return spec
}

func (a *API) updateMember(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "member_id")
	root, ferr := body{arg: "member_", root: rootType("member", memberPUT)}.decode(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	m, ferr := resource(root, "member")
	if ferr == nil {
		_, ferr = a.readMember(ctx, scopedPool(r).ID, id)
	}
	var lbID string
	if ferr == nil {
		_, lbID, _, ferr = a.memberGraph(r)
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	p, err := patch(m, nullDefaults(m, map[string]any{"backup": false, "weight": defaultWeight}))
	if err != nil {
		fault.Write(w, a.internal(ctx, "build patch", err))
		return
	}
	res, ferr := a.execute(ctx, lbID, loadbalancer.UpdateMember{PoolID: scopedPool(r).ID, MemberID: id, Patch: p})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	view, _ := projections.RenderMember(res.State, id)
	a.writeOne(w, r, http.StatusOK, "member", view, nil)
}

func (a *API) deleteMember(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), chi.URLParam(r, "member_id")
	ferr := checkParams(r)
	if ferr == nil {
		_, ferr = a.readMember(ctx, scopedPool(r).ID, id)
	}
	var lbID string
	if ferr == nil {
		_, lbID, _, ferr = a.memberGraph(r)
	}
	if ferr == nil {
		_, ferr = a.execute(ctx, lbID, loadbalancer.DeleteMember{PoolID: scopedPool(r).ID, MemberID: id})
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusNoContent)
}

// batchUpdateMembers is PUT /pools/{id}/members: the desired set of
// members, matched to existing ones by address and port.
func (a *API) batchUpdateMembers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	root, ferr := body{arg: "members_", root: membersPUT, params: []string{"additive_only"}}.decode(r)
	if ferr == nil && (root == nil || root.null("members") || !root.has("members")) {
		ferr = fault.BadRequest("%s", (&invalidInput{field: "members", msg: "Mandatory field missing."}).Error())
	}
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	items := root.records("members")
	for _, m := range items {
		if ferr := mandatoryNotNull(m, "address", "protocol_port"); ferr != nil {
			fault.Write(w, ferr)
			return
		}
	}
	s, lbID, pool, ferr := a.memberGraph(r)
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	type key struct {
		address string
		port    int
	}
	existing := map[key]*events.Member{}
	for _, n := range s.Members {
		if n != nil && n.Spec.PoolID == pool.Spec.ID && n.ProvisioningStatus != loadbalancer.Deleted {
			spec := n.Spec
			existing[key{spec.Address, spec.ProtocolPort}] = &spec
		}
	}
	if len(items) == 0 && len(existing) == 0 {
		noContent(w, http.StatusAccepted) // Octavia's no-op: nothing locked, nothing sent
		return
	}
	validSubnets := map[string]bool{}
	members := make([]events.Member, 0, len(items))
	for _, m := range items {
		cur := existing[key{m.strOr("address", ""), m.intOr("protocol_port", 0)}]
		if cur == nil {
			if ferr := a.checkNewMember(ctx, m, validSubnets); ferr != nil {
				fault.Write(w, ferr)
				return
			}
			members = append(members, memberSpec(m, a.newID(), s.LoadBalancer.Spec.ProjectID, pool.Spec.ID, nil))
			continue
		}
		members = append(members, memberSpec(m, cur.ID, s.LoadBalancer.Spec.ProjectID, pool.Spec.ID, cur))
	}
	additive := boolFromString(r.URL.Query().Get("additive_only"))
	_, ferr = a.execute(ctx, lbID, loadbalancer.BatchUpdateMembers{PoolID: pool.Spec.ID, Members: members, Additive: additive})
	if ferr != nil {
		fault.Write(w, ferr)
		return
	}
	noContent(w, http.StatusAccepted)
}
