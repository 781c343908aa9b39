package sagas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	amphoranoop "github.com/octavia-es/octavia-es/adapters/amphora/noop"
	computenoop "github.com/octavia-es/octavia-es/adapters/compute/noop"
	"github.com/octavia-es/octavia-es/adapters/network"
	networknoop "github.com/octavia-es/octavia-es/adapters/network/noop"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

const lbID = "6a1b2c3d-0000-4000-8000-000000000001"

type rig struct {
	t    *testing.T
	exec *memExecutor
	net  *networknoop.Driver
	comp *computenoop.Driver
	amp  *amphoranoop.Driver
	p    *Provisioner
}

var fastConfig = Config{StepAttempts: 3, StepBackoff: time.Millisecond, MaxStepBackoff: 2 * time.Millisecond, AmphoraConnectTimeout: 20 * time.Millisecond}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, exec: newMemExecutor()}
	var err error
	if r.net, err = networknoop.New(networknoop.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if r.comp, err = computenoop.New(computenoop.Config{}); err != nil {
		t.Fatal(err)
	}
	if r.amp, err = amphoranoop.New(amphoranoop.Config{}); err != nil {
		t.Fatal(err)
	}
	r.p = r.provisioner()
	return r
}

// provisioner returns a new provisioner over the rig's executor and drivers
// (a restarted process sees the same store and the same outside world).
func (r *rig) provisioner() *Provisioner {
	p, err := NewProvisioner(r.exec, Drivers{Network: r.net, Compute: r.comp, Amphora: r.amp, ComputeName: "noop"}, fastConfig, slog.New(slog.DiscardHandler))
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func sp(v string) *string { return &v }

// do executes a tenant command and returns the event it recorded.
func (r *rig) do(cmd loadbalancer.Command) events.Envelope {
	r.t.Helper()
	res, err := r.exec.Execute(context.Background(), lbID, cmd, events.Metadata{CorrelationID: "req-" + fmt.Sprint(len(r.exec.stream(lbID)))})
	if err != nil {
		r.t.Fatalf("%T: %v", cmd, err)
	}
	if len(res.Events) == 0 {
		r.t.Fatalf("%T recorded nothing", cmd)
	}
	return res.Events[len(res.Events)-1]
}

// deliver hands an event to the saga as the bus would.
func (r *rig) deliver(env events.Envelope) {
	r.t.Helper()
	if err := r.p.HandleEnvelope(context.Background(), env); err != nil {
		r.t.Fatalf("HandleEnvelope(%s): %v", env.Type, err)
	}
}

func (r *rig) state() loadbalancer.State {
	r.t.Helper()
	s, err := r.exec.Load(context.Background(), lbID)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// since returns the types of the events recorded after envelope from.
func (r *rig) since(from events.Envelope) []string {
	var types []string
	for _, env := range r.exec.stream(lbID) {
		if env.Version > from.Version {
			types = append(types, env.Type)
		}
	}
	return types
}

// counts reports the calls of every driver operation.
func (r *rig) counts() map[string]int {
	out := map[string]int{}
	for _, calls := range [][]noopkit.Call{r.net.Calls(), r.comp.Calls(), r.amp.Calls()} {
		for _, c := range calls {
			out[c.Op]++
		}
	}
	return out
}

func (r *rig) wantCounts(want map[string]int) {
	r.t.Helper()
	got := r.counts()
	for op, n := range want {
		if got[op] != n {
			r.t.Errorf("%s called %d times, want %d (all calls: %v)", op, got[op], n, got)
		}
	}
}

func lbSpec() events.LoadBalancer {
	return events.LoadBalancer{
		ID: lbID, ProjectID: "p1", Name: sp("web"), AdminStateUp: true,
		VipSubnetID: sp(networknoop.DefaultSubnetID), Provider: "amphora",
	}
}

func listenerSpec(id string, port int) events.Listener {
	return events.Listener{
		ID: id, ProjectID: "p1", LoadBalancerID: lbID, AdminStateUp: true, Protocol: "HTTP", ProtocolPort: port,
		ConnectionLimit: -1, ClientAuthentication: "NONE", TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
	}
}

func poolSpec(id, listener string) events.Pool {
	return events.Pool{ID: id, ProjectID: "p1", LoadBalancerID: lbID, ListenerID: listener, AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN"}
}

// active creates the load balancer and runs its saga to ACTIVE.
func (r *rig) active() events.Envelope {
	r.t.Helper()
	created := r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()})
	r.deliver(created)
	if got := r.state().LoadBalancer.ProvisioningStatus; got != loadbalancer.Active {
		r.t.Fatalf("after create: %s, want ACTIVE", got)
	}
	return created
}

func only(r *rig) events.Amphora {
	r.t.Helper()
	s := r.state()
	if len(s.Amphorae) != 1 {
		r.t.Fatalf("amphorae = %v, want one", s.Amphorae)
	}
	for _, a := range s.Amphorae {
		return a
	}
	return events.Amphora{}
}

func TestCreate(t *testing.T) {
	r := newRig(t)
	created := r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()})
	r.deliver(created)

	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active || s.Operation != "" {
		t.Fatalf("status %s, operation %q; want ACTIVE, idle", s.LoadBalancer.ProvisioningStatus, s.Operation)
	}
	want := []string{"loadbalancer.vip_allocated", "amphora.booted", "loadbalancer.activated"}
	if got := r.since(created); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if got := *s.LoadBalancer.Spec.VipAddress; got != "127.100.0.2" {
		t.Fatalf("vip address = %s, want 127.100.0.2", got)
	}
	r.wantCounts(map[string]int{
		networknoop.OpAllocateVIP: 1, computenoop.OpCreateAmphora: 1, amphoranoop.OpGetInfo: 1,
		amphoranoop.OpPlugVIP: 1, amphoranoop.OpUpdateConfig: 1, computenoop.OpDeleteAmphora: 0,
	})
	amp := only(r)
	if amp.ComputeID == "" || amp.LBNetworkIP == nil || amp.Role != RoleStandalone || amp.ComputeDriver != "noop" {
		t.Fatalf("amphora = %+v", amp)
	}
	plugged, _ := r.amp.Plugged(amp.ID)
	if plugged.Address != "127.100.0.2" || plugged.SubnetCIDR != networknoop.DefaultCIDR || plugged.GatewayIP != networknoop.DefaultGatewayIP {
		t.Fatalf("plugged VIP = %+v", plugged)
	}
	if cfg, ok := r.amp.Running(amp.ID); !ok || cfg.LoadBalancer.ID != lbID || *cfg.LoadBalancer.VipAddress != "127.100.0.2" {
		t.Fatalf("running config = %+v (%v)", cfg, ok)
	}
	// Outcome events are caused by the request's event and carry its correlation.
	for _, env := range r.exec.stream(lbID)[1:] {
		if env.CausationID != created.ID || env.CorrelationID != created.CorrelationID {
			t.Fatalf("%s: causation %q correlation %q; want %q, %q", env.Type, env.CausationID, env.CorrelationID, created.ID, created.CorrelationID)
		}
	}
}

func TestRedeliveryDoesNothingTwice(t *testing.T) {
	r := newRig(t)
	created := r.active()
	before, events := r.counts(), len(r.exec.stream(lbID))
	for range 3 {
		r.deliver(created)
	}
	if after := r.counts(); !mapsEqual(before, after) {
		t.Fatalf("driver calls changed on redelivery: %v -> %v", before, after)
	}
	if n := len(r.exec.stream(lbID)); n != events {
		t.Fatalf("stream grew from %d to %d on redelivery", events, n)
	}
}

func TestConcurrentDeliveriesRunOnce(t *testing.T) {
	r := newRig(t)
	r.comp.SetDelay(5 * time.Millisecond) // widen the window
	created := r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := r.p.HandleEnvelope(context.Background(), created); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r.wantCounts(map[string]int{networknoop.OpAllocateVIP: 1, computenoop.OpCreateAmphora: 1, amphoranoop.OpUpdateConfig: 1})
	if got := r.state().LoadBalancer.ProvisioningStatus; got != loadbalancer.Active {
		t.Fatalf("status %s, want ACTIVE", got)
	}
	if n := r.p.locks.size(); n != 0 {
		t.Fatalf("%d per-LB locks left behind", n)
	}
}

func TestChildUpdates(t *testing.T) {
	r := newRig(t)
	r.active()
	amp := only(r)

	ev := r.do(loadbalancer.CreateListener{Spec: listenerSpec("l1", 80)})
	r.deliver(ev)
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active || s.Listeners["l1"].ProvisioningStatus != loadbalancer.Active {
		t.Fatalf("after listener create: lb %s, listener %s", s.LoadBalancer.ProvisioningStatus, s.Listeners["l1"].ProvisioningStatus)
	}
	if got := r.since(ev); !slices.Equal(got, []string{"loadbalancer.configuration_applied"}) {
		t.Fatalf("events = %v", got)
	}
	cfg, _ := r.amp.Running(amp.ID)
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].ProtocolPort != 80 || cfg.Version != ev.Version {
		t.Fatalf("running config = %+v, want listener l1 at version %d", cfg, ev.Version)
	}

	r.deliver(r.do(loadbalancer.CreatePool{Spec: poolSpec("p1", "l1")}))
	del := r.do(loadbalancer.DeleteListener{ListenerID: "l1"})
	// The configuration pushed while l1 is PENDING_DELETE already lacks it.
	r.deliver(del)
	cfg, _ = r.amp.Running(amp.ID)
	if len(cfg.Listeners) != 0 || len(cfg.Pools) != 1 {
		t.Fatalf("after listener delete: %d listeners, %d pools; want 0, 1", len(cfg.Listeners), len(cfg.Pools))
	}
	if _, ok := r.state().Listeners["l1"]; ok {
		t.Fatal("listener l1 still in the graph after its delete was applied")
	}
	r.wantCounts(map[string]int{amphoranoop.OpUpdateConfig: 4, amphoranoop.OpPlugVIP: 1, computenoop.OpCreateAmphora: 1})
}

func TestCascadeDelete(t *testing.T) {
	r := newRig(t)
	r.active()
	r.deliver(r.do(loadbalancer.CreateListener{Spec: listenerSpec("l1", 80)}))
	r.deliver(r.do(loadbalancer.CreatePool{Spec: poolSpec("p1", "l1")}))
	vip := *r.state().LoadBalancer.Spec.VipAddress

	del := r.do(loadbalancer.DeleteLoadBalancer{Cascade: true})
	r.deliver(del)
	s := r.state()
	if !s.Gone {
		t.Fatalf("not gone: status %s, operation %q", s.LoadBalancer.ProvisioningStatus, s.Operation)
	}
	want := []string{"amphora.deleted", "loadbalancer.vip_released", "loadbalancer.deleted"}
	if got := r.since(del); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	r.wantCounts(map[string]int{computenoop.OpDeleteAmphora: 1, networknoop.OpReleaseVIP: 1})
	if r.comp.Running() != 0 {
		t.Fatalf("%d instances left running", r.comp.Running())
	}
	// The address is free again.
	got, err := r.net.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "other", Address: vip})
	if err != nil || got.Address != vip {
		t.Fatalf("reallocating %s: %+v, %v", vip, got, err)
	}
	// A late redelivery of the delete does nothing.
	before := r.counts()
	r.deliver(del)
	if !mapsEqual(before, r.counts()) {
		t.Fatal("redelivered delete called drivers again")
	}
}

func TestFailover(t *testing.T) {
	r := newRig(t)
	r.active()
	r.deliver(r.do(loadbalancer.CreateListener{Spec: listenerSpec("l1", 80)}))
	old := only(r)

	fo := r.do(loadbalancer.FailoverLoadBalancer{})
	r.deliver(fo)
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active || s.Operation != "" || len(s.FailoverOld) != 0 {
		t.Fatalf("after failover: %s, operation %q, old %v", s.LoadBalancer.ProvisioningStatus, s.Operation, s.FailoverOld)
	}
	want := []string{"amphora.booted", "amphora.deleted", "loadbalancer.activated"}
	if got := r.since(fo); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	fresh := only(r)
	if fresh.ID == old.ID || fresh.ComputeID == old.ComputeID {
		t.Fatalf("the replacement is the old amphora: %s", fresh.ID)
	}
	if cfg, ok := r.amp.Running(fresh.ID); !ok || len(cfg.Listeners) != 1 {
		t.Fatalf("replacement runs %+v (%v), want the listener", cfg, ok)
	}
	if _, ok := r.amp.Plugged(fresh.ID); !ok {
		t.Fatal("VIP not plugged into the replacement")
	}
	if r.comp.Running() != 1 {
		t.Fatalf("%d instances running, want 1", r.comp.Running())
	}
	if deleted := lastOfType(r, "amphora.deleted"); !strings.Contains(string(deleted.Data), old.ID) || !strings.Contains(string(deleted.Data), `"reason":"failover"`) {
		t.Fatalf("amphora.deleted = %s", deleted.Data)
	}
}

func TestFailoverAbandonsAnUndeletableOldAmphora(t *testing.T) {
	r := newRig(t)
	r.active()
	r.comp.FailOn(computenoop.OpDeleteAmphora, nil)
	r.deliver(r.do(loadbalancer.FailoverLoadBalancer{}))
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active {
		t.Fatalf("status %s, want ACTIVE (Octavia's passive failure)", s.LoadBalancer.ProvisioningStatus)
	}
	if d := lastOfType(r, "amphora.deleted"); !strings.Contains(string(d.Data), "abandoned") {
		t.Fatalf("amphora.deleted = %s, want the abandonment in the reason", d.Data)
	}
	r.wantCounts(map[string]int{computenoop.OpDeleteAmphora: fastConfig.StepAttempts})
}

func TestCreateFailureCompensates(t *testing.T) {
	tests := []struct {
		op       string
		step     StepKind
		attempts int // calls of op: retried StepAttempts times
		deletes  int // compute.delete_amphora calls of the compensation
		releases int // network.release_vip calls of the compensation
	}{
		{networknoop.OpAllocateVIP, AllocateVIP, 3, 0, 0},
		{computenoop.OpCreateAmphora, BootAmphora, 3, 0, 1},
		{amphoranoop.OpGetInfo, BootAmphora, -1, 1, 1}, // polled until the connect timeout
		{networknoop.OpGetSubnet, ConfigureAndActivate, 3, 1, 1},
		{amphoranoop.OpPlugVIP, ConfigureAndActivate, 3, 1, 1},
		{amphoranoop.OpUpdateConfig, ConfigureAndActivate, 3, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			r := newRig(t)
			fail(r, tt.op)
			created := r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()})
			r.deliver(created)

			s := r.state()
			if s.LoadBalancer.ProvisioningStatus != loadbalancer.ErrorStatus || s.Operation != "" {
				t.Fatalf("status %s, operation %q; want ERROR, idle", s.LoadBalancer.ProvisioningStatus, s.Operation)
			}
			if !strings.Contains(s.ErrorReason, tt.op) || !strings.Contains(s.ErrorReason, noopkit.ErrInjected.Error()) {
				t.Fatalf("reason %q does not name %s and the error", s.ErrorReason, tt.op)
			}
			if s.VipAllocated || len(s.Amphorae) != 0 || r.comp.Running() != 0 {
				t.Fatalf("left behind: vip %v, amphorae %v, instances %d", s.VipAllocated, s.Amphorae, r.comp.Running())
			}
			failed := lastOfType(r, "loadbalancer.provisioning_failed")
			if !strings.Contains(string(failed.Data), `"step":"`+string(tt.step)+`"`) || !strings.Contains(string(failed.Data), `"operation":"create"`) {
				t.Fatalf("provisioning_failed = %s, want step %s", failed.Data, tt.step)
			}
			got := r.counts()
			if tt.attempts > 0 && got[tt.op] != tt.attempts {
				t.Errorf("%s called %d times, want %d", tt.op, got[tt.op], tt.attempts)
			}
			if tt.attempts < 0 && got[tt.op] < 2 {
				t.Errorf("%s called %d times, want it polled", tt.op, got[tt.op])
			}
			r.wantCounts(map[string]int{computenoop.OpDeleteAmphora: tt.deletes, networknoop.OpReleaseVIP: tt.releases})
			// Every compensation is recorded as its event.
			types := r.since(created)
			if tt.releases > 0 && !slices.Contains(types, "loadbalancer.vip_released") {
				t.Errorf("events %v lack vip_released", types)
			}
			if tt.step == ConfigureAndActivate {
				if d := lastOfType(r, "amphora.deleted"); !strings.Contains(string(d.Data), "reverted: "+tt.op) {
					t.Errorf("amphora.deleted = %s, want a revert reason", d.Data)
				}
			}
			// An LB in ERROR can be deleted, and its delete finishes.
			r.comp.ClearFailures()
			r.net.ClearFailures()
			r.amp.ClearFailures()
			r.deliver(r.do(loadbalancer.DeleteLoadBalancer{}))
			if !r.state().Gone {
				t.Fatalf("delete after a failed create did not finish: %s", r.state().LoadBalancer.ProvisioningStatus)
			}
		})
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	r := newRig(t)
	r.net.FailOn(networknoop.OpAllocateVIP, fmt.Errorf("127.100.0.9: %w", network.ErrAddressInUse))
	r.deliver(r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()}))
	if got := r.state().LoadBalancer.ProvisioningStatus; got != loadbalancer.ErrorStatus {
		t.Fatalf("status %s, want ERROR", got)
	}
	r.wantCounts(map[string]int{networknoop.OpAllocateVIP: 1})
}

func TestTransientFailureIsRetried(t *testing.T) {
	r := newRig(t)
	r.comp.FailNext(computenoop.OpCreateAmphora, 2, nil)
	r.amp.FailNext(amphoranoop.OpUpdateConfig, 1, nil)
	r.deliver(r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()}))
	if got := r.state().LoadBalancer.ProvisioningStatus; got != loadbalancer.Active {
		t.Fatalf("status %s, want ACTIVE", got)
	}
	r.wantCounts(map[string]int{computenoop.OpCreateAmphora: 3, amphoranoop.OpUpdateConfig: 2, computenoop.OpDeleteAmphora: 0})
	if r.comp.Running() != 1 {
		t.Fatalf("%d instances, want 1 (retries reuse the amphora id)", r.comp.Running())
	}
}

func TestUpdateFailure(t *testing.T) {
	r := newRig(t)
	r.active()
	r.amp.FailOn(amphoranoop.OpUpdateConfig, nil)
	ev := r.do(loadbalancer.CreateListener{Spec: listenerSpec("l1", 80)})
	r.deliver(ev)
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active || s.Listeners["l1"].ProvisioningStatus != loadbalancer.ErrorStatus {
		t.Fatalf("lb %s, listener %s; want ACTIVE, ERROR", s.LoadBalancer.ProvisioningStatus, s.Listeners["l1"].ProvisioningStatus)
	}
	if got := r.since(ev); !slices.Equal(got, []string{"loadbalancer.configuration_failed"}) {
		t.Fatalf("events = %v", got)
	}
	if !strings.Contains(s.ErrorReason, amphoranoop.OpUpdateConfig) {
		t.Fatalf("reason = %q", s.ErrorReason)
	}
	r.wantCounts(map[string]int{computenoop.OpDeleteAmphora: 0, amphoranoop.OpUpdateConfig: 1 + fastConfig.StepAttempts})
}

func TestDeleteFailure(t *testing.T) {
	r := newRig(t)
	r.active()
	r.comp.FailOn(computenoop.OpDeleteAmphora, nil)
	del := r.do(loadbalancer.DeleteLoadBalancer{})
	r.deliver(del)
	s := r.state()
	if s.Gone || s.LoadBalancer.ProvisioningStatus != loadbalancer.ErrorStatus {
		t.Fatalf("gone %v, status %s; want ERROR", s.Gone, s.LoadBalancer.ProvisioningStatus)
	}
	if got := r.since(del); !slices.Equal(got, []string{"loadbalancer.provisioning_failed"}) {
		t.Fatalf("events = %v", got)
	}
	r.comp.ClearFailures()
	r.deliver(r.do(loadbalancer.DeleteLoadBalancer{}))
	if !r.state().Gone {
		t.Fatal("second delete did not finish")
	}
}

func TestFailoverFailureRevertsTheNewAmphora(t *testing.T) {
	tests := []struct {
		op      string
		keepOld bool // the old amphora is still there (the failure came before its delete)
	}{
		{computenoop.OpCreateAmphora, true},
		{amphoranoop.OpUpdateConfig, false},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			r := newRig(t)
			r.active()
			old := only(r)
			fail(r, tt.op)
			r.deliver(r.do(loadbalancer.FailoverLoadBalancer{}))
			s := r.state()
			if s.LoadBalancer.ProvisioningStatus != loadbalancer.ErrorStatus || s.Operation != "" {
				t.Fatalf("status %s, operation %q; want ERROR", s.LoadBalancer.ProvisioningStatus, s.Operation)
			}
			_, hasOld := s.Amphorae[old.ID]
			if hasOld != tt.keepOld || len(s.Amphorae) != map[bool]int{true: 1, false: 0}[tt.keepOld] {
				t.Fatalf("amphorae = %v, want old kept: %v and no new one", s.Amphorae, tt.keepOld)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.keepOld]; r.comp.Running() != want {
				t.Fatalf("%d instances running, want %d", r.comp.Running(), want)
			}
			if !s.VipAllocated {
				t.Fatal("a failed failover released the VIP of a load balancer that still exists")
			}
		})
	}
}

func TestInterruptedSagaResumes(t *testing.T) {
	r := newRig(t)
	r.comp.SetDelay(time.Hour) // the process "dies" while the amphora boots
	created := r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := r.p.HandleEnvelope(ctx, created); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.PendingCreate || !s.VipAllocated {
		t.Fatalf("after the interruption: %s, vip %v; want PENDING_CREATE with the VIP", s.LoadBalancer.ProvisioningStatus, s.VipAllocated)
	}
	r.wantCounts(map[string]int{networknoop.OpReleaseVIP: 0}) // shutdown is not a failure: no compensation

	r.comp.SetDelay(0)
	if err := r.provisioner().Resume(context.Background(), []string{lbID, lbID, "6a1b2c3d-0000-4000-8000-0000000000ff"}); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if got := r.state().LoadBalancer.ProvisioningStatus; got != loadbalancer.Active {
		t.Fatalf("after Resume: %s, want ACTIVE", got)
	}
	calls := r.comp.Calls()
	if len(calls) != 2 || calls[0] != calls[1] {
		t.Fatalf("create calls = %v, want the same amphora asked for twice", calls)
	}
	r.wantCounts(map[string]int{networknoop.OpAllocateVIP: 1})
}

func TestHandleEnvelopeIgnoresOutcomesAndOtherStreams(t *testing.T) {
	r := newRig(t)
	for _, env := range []events.Envelope{
		{ID: "e1", Stream: events.StreamFor(lbID), Type: events.VipAllocated{}.EventType()},
		{ID: "e2", Stream: events.StreamFor(lbID), Type: events.OperatingStatusesChanged{}.EventType()},
		{ID: "e3", Stream: "quota-p1", Type: events.ListenerCreateRequested{}.EventType()},
	} {
		if err := r.p.HandleEnvelope(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.exec.loadCount(); n != 0 {
		t.Fatalf("%d loads for events that start no work", n)
	}
	if !Triggers("loadbalancer.some_future_request") || Triggers("amphora.booted") {
		t.Fatal("Triggers: unknown types must trigger, outcomes must not")
	}
}

func TestNoProgressIsAnError(t *testing.T) {
	r := newRig(t)
	r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()})
	p, _ := NewProvisioner(stuckExecutor{r.exec}, Drivers{Network: r.net, Compute: r.comp, Amphora: r.amp}, fastConfig, nil)
	err := p.Handle(context.Background(), lbID, events.Metadata{})
	if !errors.Is(err, ErrNoProgress) {
		t.Fatalf("err = %v, want ErrNoProgress", err)
	}
}

func TestNewProvisionerNeedsDrivers(t *testing.T) {
	if _, err := NewProvisioner(newMemExecutor(), Drivers{}, Config{}, nil); err == nil {
		t.Fatal("NewProvisioner accepted missing drivers")
	}
}

// stuckExecutor records nothing: every outcome command is a no-op.
type stuckExecutor struct{ *memExecutor }

func (s stuckExecutor) Execute(ctx context.Context, id string, _ loadbalancer.Command, _ events.Metadata) (loadbalancer.Result, error) {
	st, err := s.Load(ctx, id)
	return loadbalancer.Result{State: st}, err
}

func fail(r *rig, op string) {
	switch strings.SplitN(op, ".", 2)[0] {
	case "network":
		r.net.FailOn(op, nil)
	case "compute":
		r.comp.FailOn(op, nil)
	default:
		r.amp.FailOn(op, nil)
	}
}

func lastOfType(r *rig, typ string) events.Envelope {
	r.t.Helper()
	stream := r.exec.stream(lbID)
	for i := len(stream) - 1; i >= 0; i-- {
		if stream[i].Type == typ {
			return stream[i]
		}
	}
	r.t.Fatalf("no %s event", typ)
	return events.Envelope{}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
