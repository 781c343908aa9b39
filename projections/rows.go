package projections

import (
	"encoding/json"
	"fmt"

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

func (r row) equal(o row) bool {
	if (r.updatedAt == nil) != (o.updatedAt == nil) || (r.updatedAt != nil && *r.updatedAt != *o.updatedAt) {
		return false
	}
	r.updatedAt, o.updatedAt = nil, nil
	return r == o
}

// renderGraph renders the rows of a graph as the projector stores them: its
// objects (renderRows) and its amphorae.
func renderGraph(g *graph) (map[rowKey]row, error) {
	rows, err := renderRows(g.state)
	if err != nil {
		return nil, err
	}
	if err := renderAmphoraRows(rows, g.state, g.amphorae); err != nil {
		return nil, err
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

	lb := RenderLoadBalancer(s)
	if err := put(tLoadBalancers, lb.ID, lb.ProjectID, "", lb.Name, lb.ProvisioningStatus, lb.OperatingStatus, lb.CreatedAt, lb.UpdatedAt, lb.Tags, lb); err != nil {
		return nil, err
	}
	tree, err := json.Marshal(RenderStatusTree(s))
	if err != nil {
		return nil, fmt.Errorf("render status tree %s: %w", lbID, err)
	}
	rows[rowKey{statusTable, lbID}] = row{loadBalancerID: lbID, doc: string(tree)}

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
