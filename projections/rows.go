package projections

import (
	"encoding/json"
	"fmt"
	"hash/maphash"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

// table indexes resourceTables; statusTable is the status_trees table and
// tAmphorae the amphorae table (columns of their own, see schema.go).
type table int

const (
	tLoadBalancers table = iota
	tListeners
	tPools
	tMembers
	tHealthMonitors
	statusTable
	tAmphorae
)

// lastTable is the highest table index: loops over every table of a graph
// end here.
const lastTable = tAmphorae

func (t table) String() string {
	switch t {
	case statusTable:
		return "status_trees"
	case tAmphorae:
		return "amphorae"
	}
	return resourceTables[t]
}

type rowKey struct {
	table table
	id    string
}

// row is one object as stored. For statusTable only doc is used.
type row struct {
	projectID, loadBalancerID, poolID, name string
	provisioning, operating                 string
	createdAt                               string
	updatedAt                               *string
	tags                                    string // JSON array
	doc                                     string
	amp                                     amphoraColumns // tAmphorae only
}

// amphoraColumns are the amphorae table's own columns (a row's
// provisioning holds the amphora status, createdAt and updatedAt its times).
type amphoraColumns struct {
	computeID, role, lbNetworkIP                string
	computeDriver, networkDriver, amphoraDriver string
}

// sum is a digest of every column of r, keyed by seed: the projector keeps
// sums of what it wrote, not the rows, and rewrites a row whose sum
// changed. The seed is random per process, so a tenant cannot craft two
// versions of a row with one sum (a collision would skip one update).
func (r row) sum(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, s := range [...]string{r.projectID, r.loadBalancerID, r.poolID, r.name, r.provisioning, r.operating,
		r.createdAt, r.tags, r.doc, r.amp.computeID, r.amp.role, r.amp.lbNetworkIP, r.amp.computeDriver,
		r.amp.networkDriver, r.amp.amphoraDriver} {
		_, _ = h.WriteString(s)
		_ = h.WriteByte(0)
	}
	if r.updatedAt == nil {
		_ = h.WriteByte(1)
	} else {
		_ = h.WriteByte(2)
		_, _ = h.WriteString(*r.updatedAt)
	}
	return h.Sum64()
}

// renderGraph renders the rows of a graph as the projector stores them: its
// objects (renderRows) and its amphorae; only the projections in want.
func renderGraph(g *graph, want projectionSet) (map[rowKey]row, error) {
	rows := map[rowKey]row{}
	if want.has(ProjectionLoadBalancers) || want.has(ProjectionStatus) {
		var err error
		if rows, err = renderObjectRows(g.state, want); err != nil {
			return nil, err
		}
	}
	if want.has(ProjectionAmphorae) {
		if err := renderAmphoraRows(rows, g.state, g.amphorae); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// renderAmphoraRows adds the rows of the amphorae of a visible graph.
func renderAmphoraRows(rows map[rowKey]row, s loadbalancer.State, times map[string]AmphoraTimes) error {
	if !s.Exists || s.Gone {
		return nil
	}
	for id, a := range s.Amphorae {
		v, ok := RenderAmphora(s, id, times[id])
		if !ok {
			continue
		}
		doc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("render amphora %s: %w", id, err)
		}
		rows[rowKey{tAmphorae, id}] = row{
			projectID: s.LoadBalancer.Spec.ProjectID, loadBalancerID: s.LoadBalancerID(),
			provisioning: v.Status, createdAt: v.CreatedAt, updatedAt: v.UpdatedAt, doc: string(doc),
			amp: amphoraColumns{
				computeID: a.ComputeID, role: a.Role, lbNetworkIP: deref(a.LBNetworkIP),
				computeDriver: a.ComputeDriver, networkDriver: a.NetworkDriver, amphoraDriver: a.AmphoraDriver,
			},
		}
	}
	return nil
}

// renderRows renders every visible object of a graph. A graph that was
// never created or is gone has none.
func renderRows(s loadbalancer.State) (map[rowKey]row, error) {
	return renderObjectRows(s, allProjections)
}

// renderObjectRows renders the objects of a graph (the loadbalancers
// projection) and its status tree (status), as far as want asks.
func renderObjectRows(s loadbalancer.State, want projectionSet) (map[rowKey]row, error) {
	rows := map[rowKey]row{}
	if !s.Exists || s.Gone {
		return rows, nil
	}
	lbID := s.LoadBalancer.Spec.ID
	put := func(t table, id, projectID, poolID string, name *string, prov, oper string, created string, updated *string, tags []string, view any) error {
		doc, err := json.Marshal(view)
		if err != nil {
			return fmt.Errorf("render %s %s: %w", t, id, err)
		}
		tagDoc, err := json.Marshal(tags)
		if err != nil {
			return fmt.Errorf("render %s %s tags: %w", t, id, err)
		}
		rows[rowKey{t, id}] = row{
			projectID: projectID, loadBalancerID: lbID, poolID: poolID, name: deref(name),
			provisioning: prov, operating: oper, createdAt: created, updatedAt: updated,
			tags: string(tagDoc), doc: string(doc),
		}
		return nil
	}

	if want.has(ProjectionStatus) {
		tree, err := json.Marshal(RenderStatusTree(s))
		if err != nil {
			return nil, fmt.Errorf("render status tree %s: %w", lbID, err)
		}
		rows[rowKey{statusTable, lbID}] = row{loadBalancerID: lbID, doc: string(tree)}
	}
	if !want.has(ProjectionLoadBalancers) {
		return rows, nil
	}
	lb := RenderLoadBalancer(s)
	if err := put(tLoadBalancers, lb.ID, lb.ProjectID, "", lb.Name, lb.ProvisioningStatus, lb.OperatingStatus, lb.CreatedAt, lb.UpdatedAt, lb.Tags, lb); err != nil {
		return nil, err
	}
	for id := range s.Listeners {
		v, ok := RenderListener(s, id)
		if !ok {
			continue
		}
		if err := put(tListeners, v.ID, v.ProjectID, "", v.Name, v.ProvisioningStatus, v.OperatingStatus, v.CreatedAt, v.UpdatedAt, v.Tags, v); err != nil {
			return nil, err
		}
	}
	for id := range s.Pools {
		v, ok := RenderPool(s, id)
		if !ok {
			continue
		}
		if err := put(tPools, v.ID, v.ProjectID, "", v.Name, v.ProvisioningStatus, v.OperatingStatus, v.CreatedAt, v.UpdatedAt, v.Tags, v); err != nil {
			return nil, err
		}
	}
	for id, n := range s.Members {
		v, ok := RenderMember(s, id)
		if !ok {
			continue
		}
		if err := put(tMembers, v.ID, v.ProjectID, n.Spec.PoolID, v.Name, v.ProvisioningStatus, v.OperatingStatus, v.CreatedAt, v.UpdatedAt, v.Tags, v); err != nil {
			return nil, err
		}
	}
	for id, n := range s.HealthMonitors {
		v, ok := RenderHealthMonitor(s, id)
		if !ok {
			continue
		}
		if err := put(tHealthMonitors, v.ID, v.ProjectID, n.Spec.PoolID, v.Name, v.ProvisioningStatus, v.OperatingStatus, v.CreatedAt, v.UpdatedAt, v.Tags, v); err != nil {
			return nil, err
		}
	}
	return rows, nil
}
