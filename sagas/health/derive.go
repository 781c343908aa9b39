package health

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// HAProxy statuses as the agent reports them (Octavia's constants).
const (
	statusOpen       = "OPEN"       // frontend: nbconn < maxconn
	statusFull       = "FULL"       // frontend: maxconn reached
	statusUp         = "UP"         // backend or server; servers may add " 1/3" while transitioning
	statusDown       = "DOWN"       // backend or server
	statusDrain      = "DRAIN"      // server weight 0
	statusMaint      = "MAINT"      // server disabled
	statusNoCheck    = "no check"   // server without a health check
	statusRestarting = "RESTARTING" // keepalived restarting: keep the previous status
)

// derivation is what one heartbeat says about a load balancer graph.
type derivation struct {
	// Change lists only the operating statuses that differ from the state.
	Change events.OperatingStatusesChanged
	// Alive: the heartbeat counts as a sign of life (Octavia only refreshes
	// the amphora's health when every expected listener reports).
	Alive bool
	// ExpectedListeners and ReportedListeners explain a heartbeat that is
	// not counted.
	ExpectedListeners, ReportedListeners int
	// Warnings are statuses Octavia does not know, worth a log line.
	Warnings []string
}

func (d derivation) changed() bool {
	c := d.Change
	return c.LoadBalancer != "" || len(c.Listeners) > 0 || len(c.Pools) > 0 || len(c.Members) > 0 ||
		len(c.HealthMonitors) > 0
}

// derive is Octavia's UpdateHealthDb._update_health and
// _process_pool_status (amphorae/drivers/health/heartbeat_udp.py) applied
// to a heartbeat of version 2 or later, with s standing for the rows
// get_lb_for_health_update reads (every listener, pool and member of the
// graph, whatever their provisioning status). Pure.
//
// The message is first seen as Octavia's agent would have sent it: Octavia
// renders neither the listeners of a disabled load balancer, nor disabled
// listeners, nor disabled pools, so they never report; a renderer that
// keeps them as HAProxy "disabled" sections makes them report (as STOP),
// and they are dropped here so the statuses come out the same.
func derive(s loadbalancer.State, m heartbeat.Message) derivation {
	lb := s.LoadBalancer
	enabled := lb.Spec.AdminStateUp
	prov := lb.ProvisioningStatus
	listeners, pools := visibleReport(s, m)
	d := derivation{Change: events.OperatingStatusesChanged{LoadBalancerID: s.LoadBalancerID()}}

	// Sign of life: while the load balancer is PENDING_* or disabled the
	// listener count is not checked.
	d.ReportedListeners = len(listeners)
	if strings.Contains(prov, "PENDING") || !enabled {
		d.Alive = true
	} else {
		for _, n := range s.Listeners {
			if n != nil && n.Spec.AdminStateUp {
				d.ExpectedListeners++
			}
		}
		d.Alive = d.ReportedListeners == d.ExpectedListeners
	}

	// We got a heartbeat, so the load balancer is healthy until proven
	// otherwise.
	lbStatus := loadbalancer.Online
	if !enabled {
		lbStatus = loadbalancer.Offline
	}

	for _, id := range slices.Sorted(maps.Keys(s.Listeners)) {
		n := s.Listeners[id]
		if n == nil {
			continue
		}
		var st string
		if l, ok := listeners[id]; !ok {
			if n.Spec.AdminStateUp && prov == loadbalancer.Active {
				st = loadbalancer.ErrorStatus
			} else {
				st = loadbalancer.Offline
			}
		} else {
			switch l.Status {
			case statusOpen:
				st = loadbalancer.Online
			case statusFull:
				st = loadbalancer.Degraded
				if lbStatus == loadbalancer.Online {
					lbStatus = loadbalancer.Degraded
				}
			default:
				d.Warnings = append(d.Warnings, fmt.Sprintf("listener %s reported status of %s", id, l.Status))
			}
		}
		if st != "" && st != n.OperatingStatus {
			d.Change.Listeners = put(d.Change.Listeners, id, st)
		}
	}

	for _, id := range slices.Sorted(maps.Keys(s.Pools)) {
		n := s.Pools[id]
		if n == nil {
			continue
		}
		p, ok := pools[id]
		if !ok {
			// No report for this pool: it is offline (its members keep
			// their statuses).
			if n.OperatingStatus != loadbalancer.Offline {
				d.Change.Pools = put(d.Change.Pools, id, loadbalancer.Offline)
			}
			continue
		}
		lbStatus = d.pool(s, id, n.OperatingStatus, p, lbStatus)
	}

	if lbStatus != lb.OperatingStatus {
		d.Change.LoadBalancer = lbStatus
	}
	return d
}

// pool derives a reported pool and its members; it returns the load
// balancer's status as the pool leaves it.
func (d *derivation) pool(s loadbalancer.State, id, dbStatus string, p heartbeat.Pool, lbStatus string) string {
	var st string
	switch p.Status {
	case statusUp:
		st = loadbalancer.Online
	case statusDown:
		st = loadbalancer.ErrorStatus
		lbStatus = loadbalancer.ErrorStatus
	default:
		d.Warnings = append(d.Warnings, fmt.Sprintf("pool %s reported status of %s", id, p.Status))
	}

	for _, mid := range s.PoolMembers(id) {
		dbMember := s.Members[mid].OperatingStatus
		var ms string
		reported, ok := p.Members[mid]
		switch {
		case !ok:
			if dbMember != loadbalancer.NoMonitor {
				ms = loadbalancer.Offline
			}
		case strings.HasPrefix(reported, statusUp):
			ms = loadbalancer.Online
		case strings.HasPrefix(reported, statusDown):
			ms = loadbalancer.ErrorStatus
			if st == loadbalancer.Online {
				st = loadbalancer.Degraded
				if lbStatus == loadbalancer.Online {
					lbStatus = loadbalancer.Degraded
				}
			}
		case reported == statusDrain:
			ms = loadbalancer.Draining
		case reported == statusMaint:
			ms = loadbalancer.Offline
		case reported == statusNoCheck:
			ms = loadbalancer.NoMonitor
		case reported == statusRestarting:
			// The real status is not known yet: keep the previous one.
		default:
			d.Warnings = append(d.Warnings, fmt.Sprintf("member %s reported status of %s", mid, reported))
		}
		if ms != "" && ms != dbMember {
			d.Change.Members = put(d.Change.Members, mid, ms)
		}
	}

	if st != "" && st != dbStatus {
		d.Change.Pools = put(d.Change.Pools, id, st)
	}
	return lbStatus
}

// visibleReport returns the listeners and pools of m that Octavia's agent
// would have reported (see derive), pools keyed by pool id alone: Octavia
// keys them "<pool_id>:<listener_id>" and strips the suffix.
func visibleReport(s loadbalancer.State, m heartbeat.Message) (map[string]heartbeat.Listener, map[string]heartbeat.Pool) {
	lbEnabled := s.LoadBalancer.Spec.AdminStateUp
	disabledListener := func(id string) bool {
		n := s.Listeners[id]
		return n != nil && !n.Spec.AdminStateUp
	}
	listeners := make(map[string]heartbeat.Listener, len(m.Listeners))
	for id, l := range m.Listeners {
		if !lbEnabled || disabledListener(id) {
			continue
		}
		listeners[id] = l
	}
	pools := make(map[string]heartbeat.Pool, len(m.Pools))
	// Sorted keys: when one pool reports through several listeners, the
	// same report wins every time.
	for _, key := range slices.Sorted(maps.Keys(m.Pools)) {
		id, listenerID := key, ""
		if i := strings.LastIndexByte(key, ':'); i >= 0 {
			id, listenerID = key[:i], key[i+1:]
		}
		if !lbEnabled || (listenerID != "" && disabledListener(listenerID)) {
			continue
		}
		if n := s.Pools[id]; n != nil && !n.Spec.AdminStateUp {
			continue
		}
		if _, seen := pools[id]; !seen {
			pools[id] = m.Pools[key]
		}
	}
	return listeners, pools
}

func put(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
