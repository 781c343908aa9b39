package projections

import (
	"slices"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

// Amphora statuses, as Octavia names them (common/constants.py). An amphora
// is recorded once it answered (AmphoraBooted), so BOOTING and READY (the
// spares pool) never show; a deleted amphora is gone from the read model, as
// Octavia's API hides DELETED ones.
const (
	AmphoraAllocated     = "ALLOCATED"
	AmphoraPendingDelete = "PENDING_DELETE"
	AmphoraError         = "ERROR"
)

// AmphoraView is the JSON of GET /v2/octavia/amphorae/{id}
// (api/v2/types/amphora.py AmphoraResponse, in its attribute order).
type AmphoraView struct {
	ID             string  `json:"id"`
	LoadBalancerID *string `json:"loadbalancer_id"`
	ComputeID      *string `json:"compute_id"`
	LBNetworkIP    *string `json:"lb_network_ip"`
	VRRPIP         *string `json:"vrrp_ip"`
	HAIP           *string `json:"ha_ip"`
	VRRPPortID     *string `json:"vrrp_port_id"`
	HAPortID       *string `json:"ha_port_id"`
	CertExpiration *string `json:"cert_expiration"`
	CertBusy       bool    `json:"cert_busy"`
	Role           *string `json:"role"`
	Status         string  `json:"status"`
	VRRPInterface  *string `json:"vrrp_interface"`
	VRRPID         *int    `json:"vrrp_id"`
	VRRPPriority   *int    `json:"vrrp_priority"`
	CachedZone     *string `json:"cached_zone"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      *string `json:"updated_at"`
	ImageID        *string `json:"image_id"`
	ComputeFlavor  *string `json:"compute_flavor"`
}

// AmphoraTimes are an amphora's timestamps. The aggregate keeps none for
// amphorae, so the projector derives them from the envelopes it folds:
// Booted is the time of AmphoraBooted, Changed the time its status last
// changed (Octavia's updated_at, never null: its amphora row is updated
// while it boots).
type AmphoraTimes struct {
	Booted  time.Time
	Changed time.Time
}

// AmphoraStatus is the status of amphora id of s, as Octavia's flows set
// it: PENDING_DELETE while the load balancer is deleted or the amphora is
// failed over (MarkAmphoraPendingDeleteInDB), ERROR when that failover
// failed (the task's revert), ALLOCATED otherwise.
func AmphoraStatus(s loadbalancer.State, id string) string {
	return amphoraStatus(s.Operation, s.FailoverOld, id)
}

func amphoraStatus(operation string, failoverOld []string, id string) string {
	switch {
	case operation == "delete":
		return AmphoraPendingDelete
	case slices.Contains(failoverOld, id):
		if operation == "failover" {
			return AmphoraPendingDelete
		}
		return AmphoraError
	}
	return AmphoraAllocated
}

// RenderAmphora renders amphora id of s; false if s has no such amphora.
// For the SINGLE topology Octavia records the VIP as the amphora's ha_ip and
// ha_port_id: they fall back to the load balancer's VIP when the boot did
// not record them.
func RenderAmphora(s loadbalancer.State, id string, t AmphoraTimes) (AmphoraView, bool) {
	a, ok := s.Amphorae[id]
	if !ok {
		return AmphoraView{}, false
	}
	lbID := a.LoadBalancerID
	if lbID == "" {
		lbID = s.LoadBalancerID()
	}
	haIP, haPort := a.HAIP, a.HAPortID
	if s.VipAllocated {
		if haIP == nil {
			haIP = s.LoadBalancer.Spec.VipAddress
		}
		if haPort == nil {
			haPort = s.LoadBalancer.Spec.VipPortID
		}
	}
	changed := t.Changed
	if changed.IsZero() {
		changed = t.Booted
	}
	return AmphoraView{
		ID:             a.ID,
		LoadBalancerID: nullIfEmpty(lbID),
		ComputeID:      nullIfEmpty(a.ComputeID),
		LBNetworkIP:    a.LBNetworkIP,
		VRRPIP:         a.VRRPIP,
		HAIP:           haIP,
		VRRPPortID:     a.VRRPPortID,
		HAPortID:       haPort,
		Role:           nullIfEmpty(a.Role),
		Status:         AmphoraStatus(s, id),
		CreatedAt:      formatTime(t.Booted),
		UpdatedAt:      formatTimePtr(&changed),
		ImageID:        a.ImageID,
		ComputeFlavor:  a.ComputeFlavor,
	}, true
}

// trackAmphorae brings times up to date after an event at time at was
// folded into s; opBefore and oldBefore are s.Operation and s.FailoverOld
// as they were before it (Evolve never modifies FailoverOld in place).
func trackAmphorae(times map[string]AmphoraTimes, s loadbalancer.State, at time.Time, opBefore string, oldBefore []string) {
	for id := range times {
		if _, ok := s.Amphorae[id]; !ok {
			delete(times, id)
		}
	}
	for id := range s.Amphorae {
		t, known := times[id]
		switch {
		case !known:
			times[id] = AmphoraTimes{Booted: at, Changed: at}
		case amphoraStatus(opBefore, oldBefore, id) != AmphoraStatus(s, id):
			t.Changed = at
			times[id] = t
		}
	}
}

func nullIfEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
