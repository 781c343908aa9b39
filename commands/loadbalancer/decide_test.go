package loadbalancer

import (
	"errors"
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/events"
)

// decideCase: given a history, when a command, then events or a refusal.
type decideCase struct {
	name    string
	given   []events.Event
	when    Command
	then    []events.Event
	wantErr *Error
}

func runDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := given(tc.given...)
			before := s.Clone()
			got, err := Decide(s, tc.when)
			if !reflect.DeepEqual(s, before) {
				t.Fatalf("Decide modified its state")
			}
			if tc.wantErr != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want *Error %q", err, tc.wantErr.Message)
				}
				if e.Kind != tc.wantErr.Kind || e.Message != tc.wantErr.Message {
					t.Fatalf("err = {%d %q}, want {%d %q}", e.Kind, e.Message, tc.wantErr.Kind, tc.wantErr.Message)
				}
				if got != nil {
					t.Fatalf("refusal came with events %#v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected refusal: %v", err)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events:\n got %#v\nwant %#v", got, tc.then)
			}
		})
	}
}

func lockedLB() []events.Event {
	return seq(activeLB(), []events.Event{events.ListenerCreateRequested{Listener: listenerSpec("l-9", "TCP", 9000)}})
}

func TestDecideLoadBalancer(t *testing.T) {
	updated := lbSpec()
	updated.Name = ptr("renamed")
	updated.Description = nil
	updated.VipAddress, updated.VipPortID, updated.VipNetworkID = ptr("10.0.0.10"), ptr("port-1"), ptr("net-1")

	errored := seq(activeLB(), []events.Event{
		events.LoadBalancerUpdateRequested{LoadBalancer: lbSpec()},
		events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "boom"},
	})
	runDecide(t, []decideCase{
		{name: "create on an empty stream", when: CreateLoadBalancer{Spec: lbSpec()},
			then: []events.Event{events.LoadBalancerCreateRequested{LoadBalancer: lbSpec()}}},
		{name: "create twice", given: activeLB(), when: CreateLoadBalancer{Spec: lbSpec()},
			wantErr: &Error{Conflict, "Already an entity with that specified id."}},
		{name: "create without id", when: CreateLoadBalancer{},
			wantErr: &Error{Invalid, "Validation failure: Missing load balancer id."}},
		{name: "update unknown", when: UpdateLoadBalancer{Patch: patch(`{"name":"x"}`)},
			wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
		{name: "update while PENDING_CREATE", given: activeLB()[:1], when: UpdateLoadBalancer{Patch: patch(`{"name":"x"}`)},
			wantErr: &Error{Immutable, "Invalid state PENDING_CREATE of loadbalancer resource lb-1"}},
		{name: "update while PENDING_UPDATE", given: lockedLB(), when: UpdateLoadBalancer{Patch: patch(`{}`)},
			wantErr: &Error{Immutable, "Invalid state PENDING_UPDATE of loadbalancer resource lb-1"}},
		{name: "update from ERROR", given: errored, when: UpdateLoadBalancer{Patch: patch(`{}`)},
			wantErr: &Error{Immutable, "Invalid state ERROR of loadbalancer resource lb-1"}},
		{name: "update merges the patch, VIP fixed", given: activeLB(),
			when: UpdateLoadBalancer{Patch: patch(`{"name":"renamed","description":null,"vip_address":"1.2.3.4","id":"other"}`)},
			then: []events.Event{events.LoadBalancerUpdateRequested{LoadBalancer: updated}}},
		{name: "update with a wrong type", given: activeLB(), when: UpdateLoadBalancer{Patch: patch(`{"admin_state_up":"yes"}`)},
			wantErr: &Error{Invalid, `Invalid input for field/attribute admin_state_up. Value: '"yes"'. Wrong type.`}},
		{name: "delete with children", given: seq(activeLB(), withListener(listenerSpec("l-1", "HTTP", 80))),
			when:    DeleteLoadBalancer{},
			wantErr: &Error{Invalid, "Validation failure: Cannot delete Load Balancer lb-1 - it has children"}},
		{name: "delete with only a pool", given: seq(activeLB(), withPool(poolSpec("p-1", "TCP"))),
			when:    DeleteLoadBalancer{},
			wantErr: &Error{Invalid, "Validation failure: Cannot delete Load Balancer lb-1 - it has children"}},
		{name: "children are checked before the status", given: lockedLB(), when: DeleteLoadBalancer{},
			wantErr: &Error{Invalid, "Validation failure: Cannot delete Load Balancer lb-1 - it has children"}},
		{name: "cascade delete", given: seq(activeLB(), withListener(listenerSpec("l-1", "HTTP", 80))),
			when: DeleteLoadBalancer{Cascade: true},
			then: []events.Event{events.LoadBalancerDeleteRequested{LoadBalancerID: lbID, Cascade: true}}},
		{name: "delete from ERROR", given: errored, when: DeleteLoadBalancer{},
			then: []events.Event{events.LoadBalancerDeleteRequested{LoadBalancerID: lbID}}},
		{name: "delete while PENDING_UPDATE", given: lockedLB(), when: DeleteLoadBalancer{Cascade: true},
			wantErr: &Error{Immutable, "Invalid state PENDING_UPDATE of loadbalancer resource lb-1"}},
		{name: "delete while PENDING_DELETE", given: seq(activeLB(), []events.Event{events.LoadBalancerDeleteRequested{LoadBalancerID: lbID}}),
			when:    DeleteLoadBalancer{},
			wantErr: &Error{Immutable, "Invalid state PENDING_DELETE of loadbalancer resource lb-1"}},
		{name: "delete a deleted LB", given: seq(activeLB(), []events.Event{
			events.LoadBalancerDeleteRequested{LoadBalancerID: lbID}, events.LoadBalancerDeleted{LoadBalancerID: lbID}}),
			when: DeleteLoadBalancer{}, wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
		{name: "failover", given: activeLB(), when: FailoverLoadBalancer{},
			then: []events.Event{events.LoadBalancerFailoverRequested{LoadBalancerID: lbID}}},
		{name: "failover from ERROR", given: errored, when: &FailoverLoadBalancer{},
			then: []events.Event{events.LoadBalancerFailoverRequested{LoadBalancerID: lbID}}},
		{name: "failover while PENDING_UPDATE", given: lockedLB(), when: FailoverLoadBalancer{},
			wantErr: &Error{Immutable, "Invalid state PENDING_UPDATE of loadbalancer resource lb-1"}},
		{name: "nil command", when: nil, wantErr: &Error{Invalid, "no command"}},
	})
}

func TestDecideListener(t *testing.T) {
	bare := listenerSpec("l-2", "TCP", 443)
	bare.ProjectID = ""
	bareWant := listenerSpec("l-2", "TCP", 443)

	withDefault := listenerSpec("l-2", "HTTP", 8080)
	withDefault.DefaultPoolID = ptr("p-1")

	renamed := listenerSpec("l-1", "HTTP", 80)
	renamed.Name = ptr("new")
	renamed.DefaultPoolID = ptr("p-1")
	renamed.ConnectionLimit = 0

	cidr6 := listenerSpec("l-2", "TCP", 22)
	cidr6.AllowedCIDRs = []string{"192.168.0.0/16", "2001:db8::/32"}

	udp := seq(activeLB(), withListener(listenerSpec("l-u", "UDP", 53)))
	tcp := seq(activeLB(), withListener(listenerSpec("l-t", "TCP", 22)))

	runDecide(t, []decideCase{
		{name: "create on an unknown LB", when: CreateListener{Spec: bare},
			wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
		{name: "create on a locked LB", given: lockedLB(), when: CreateListener{Spec: bare},
			wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "create on an LB in ERROR", given: seq(activeLB(), []events.Event{
			events.LoadBalancerUpdateRequested{LoadBalancer: lbSpec()}, events.ConfigurationFailed{LoadBalancerID: lbID}}),
			when: CreateListener{Spec: bare}, wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "create fills the project", given: activeLB(), when: CreateListener{Spec: bare},
			then: []events.Event{events.ListenerCreateRequested{Listener: bareWant}}},
		{name: "create without id", given: activeLB(), when: CreateListener{Spec: listenerSpec("", "TCP", 1)},
			wantErr: &Error{Invalid, "Validation failure: Missing id for a new object."}},
		{name: "create with an existing id", given: graph(), when: CreateListener{Spec: listenerSpec("m-1", "TCP", 1)},
			wantErr: &Error{Conflict, "Already an entity with that specified id."}},
		{name: "same L4 protocol and port", given: graph(), when: CreateListener{Spec: listenerSpec("l-2", "TCP", 80)},
			wantErr: &Error{Conflict, "Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80"}},
		{name: "UDP may share a TCP port", given: graph(), when: CreateListener{Spec: listenerSpec("l-2", "UDP", 80)},
			then: []events.Event{events.ListenerCreateRequested{Listener: listenerSpec("l-2", "UDP", 80)}}},
		{name: "unknown default pool", given: activeLB(), when: CreateListener{Spec: func() events.Listener {
			l := listenerSpec("l-2", "HTTP", 8080)
			l.DefaultPoolID = ptr("p-x")
			return l
		}()}, wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "default pool of another protocol", given: seq(activeLB(), withPool(poolSpec("p-1", "TCP"))),
			when:    CreateListener{Spec: withDefault},
			wantErr: &Error{Invalid, "Validation failure: The pool protocol 'TCP' is invalid while the listener protocol is 'HTTP'."}},
		{name: "default pool is checked before the status", given: seq(graph(), []events.Event{
			events.ListenerCreateRequested{Listener: listenerSpec("l-9", "TCP", 9)}}),
			when: CreateListener{Spec: func() events.Listener {
				l := listenerSpec("l-2", "UDP", 8080)
				l.DefaultPoolID = ptr("p-1")
				return l
			}()},
			wantErr: &Error{Invalid, "Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."}},
		{name: "a pool may be the default of two listeners", given: graph(), when: CreateListener{Spec: withDefault},
			then: []events.Event{events.ListenerCreateRequested{Listener: withDefault}}},
		{name: "PROMETHEUS listeners have no children", given: graph(), when: CreateListener{Spec: func() events.Listener {
			l := listenerSpec("l-2", "PROMETHEUS", 9100)
			l.DefaultPoolID = ptr("p-1")
			return l
		}()}, wantErr: &Error{Invalid, "Protocol PROMETHEUS listeners cannot have child objects."}},
		{name: "allowed CIDR of the other IP version", given: activeLB(), when: CreateListener{Spec: cidr6},
			wantErr: &Error{Invalid, "Validation failure: CIDR 2001:db8::/32 IP version incompatible with VIP 10.0.0.10 IP version."}},
		{name: "update unknown", given: graph(), when: UpdateListener{ListenerID: "l-x", Patch: patch(`{}`)},
			wantErr: &Error{NotFound, "Listener l-x not found."}},
		{name: "update: absent keeps, null clears, protocol fixed", given: graph(),
			when: UpdateListener{ListenerID: "l-1", Patch: patch(`{"name":"new","connection_limit":null,"protocol_port":81,"protocol":"TCP"}`)},
			then: []events.Event{events.ListenerUpdateRequested{Listener: renamed}}},
		{name: "update on a locked LB", given: seq(graph(), []events.Event{
			events.ListenerCreateRequested{Listener: listenerSpec("l-9", "TCP", 9)}}),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"name":"x"}`)},
			wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "update to an unknown default pool", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"default_pool_id":"p-x"}`)},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "UDP listener and header insertion", given: udp,
			when:    UpdateListener{ListenerID: "l-u", Patch: patch(`{"insert_headers":{"X-Forwarded-For":"true"}}`)},
			wantErr: &Error{Invalid, "Validation failure: UDP protocol listener does not support TLS or header insertion."}},
		{name: "TCP listener and header insertion", given: tcp,
			when:    UpdateListener{ListenerID: "l-t", Patch: patch(`{"insert_headers":{"X-Forwarded-For":"true"}}`)},
			wantErr: &Error{Invalid, "insert-headers is not a valid option for a TCP protocol listener."}},
		{name: "unknown header", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"insert_headers":{"X-Forwarded-For":"true","X-Bogus":"1"}}`)},
			wantErr: &Error{Invalid, "['X-Forwarded-For', 'X-Bogus'] is not a valid option for insert_headers"}},
		{name: "SSL header on HTTP", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"insert_headers":{"X-Forwarded-Port":"true","X-SSL-Client-DN":"true"}}`)},
			wantErr: &Error{Invalid, "['X-SSL-Client-DN'] is not a valid option for HTTP protocol listener."}},
		{name: "certificates on HTTP", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"default_tls_container_ref":"ref"}`)},
			wantErr: &Error{Invalid, "Validation failure: Certificate container references are not allowed on HTTP protocol listeners."}},
		{name: "client authentication without CA", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"client_authentication":"MANDATORY"}`)},
			wantErr: &Error{Invalid, "Validation failure: Client authentication setting MANDATORY requires a client CA container reference."}},
		{name: "CRL without CA", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"client_crl_container_ref":"crl"}`)},
			wantErr: &Error{Invalid, "Validation failure: A client authentication CA reference is required to specify a client authentication revocation list."}},
		{name: "allowed CIDRs on update", given: graph(),
			when:    UpdateListener{ListenerID: "l-1", Patch: patch(`{"allowed_cidrs":["::/0"]}`)},
			wantErr: &Error{Invalid, "Validation failure: CIDR ::/0 IP version incompatible with VIP 10.0.0.10 IP version."}},
		{name: "delete", given: graph(), when: DeleteListener{ListenerID: "l-1"},
			then: []events.Event{events.ListenerDeleteRequested{LoadBalancerID: lbID, ListenerID: "l-1"}}},
		{name: "delete unknown", given: graph(), when: DeleteListener{ListenerID: "l-x"},
			wantErr: &Error{NotFound, "Listener l-x not found."}},
		{name: "delete on a locked LB", given: seq(graph(), []events.Event{
			events.PoolUpdateRequested{Pool: poolSpec("p-1", "HTTP")}}),
			when:    DeleteListener{ListenerID: "l-1"},
			wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
	})
}

func TestDecidePool(t *testing.T) {
	forListener := poolSpec("p-2", "HTTP")
	forListener.ListenerID = "l-2"
	forListener.ProjectID = ""
	forListenerWant := forListener
	forListenerWant.ProjectID = project

	sp := func(proto string, s events.SessionPersistence) events.Pool {
		p := poolSpec("p-2", proto)
		p.SessionPersistence = &s
		return p
	}
	sticky := poolSpec("p-s", "HTTP")
	sticky.SessionPersistence = &events.SessionPersistence{Type: "APP_COOKIE", CookieName: ptr("c")}
	stickyGraph := seq(activeLB(), withPool(sticky))
	stickyRenamed := sticky
	stickyRenamed.SessionPersistence = &events.SessionPersistence{Type: "APP_COOKIE", CookieName: ptr("d")}

	withCRL := poolSpec("p-c", "HTTP")
	withCRL.CATLSContainerRef, withCRL.CRLContainerRef = ptr("ca"), ptr("crl")

	runDecide(t, []decideCase{
		{name: "create for a listener", given: seq(activeLB(), withListener(listenerSpec("l-2", "HTTP", 80))),
			when: CreatePool{Spec: forListener},
			then: []events.Event{events.PoolCreateRequested{Pool: forListenerWant}}},
		{name: "listener already has a default pool", given: graph(), when: CreatePool{Spec: func() events.Pool {
			p := poolSpec("p-2", "HTTP")
			p.ListenerID = "l-1"
			return p
		}()}, wantErr: &Error{Conflict, "This listener already has a default pool"}},
		{name: "default pool conflict is checked before the status", given: seq(graph(), []events.Event{
			events.MemberDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1", MemberID: "m-1"}}),
			when: CreatePool{Spec: func() events.Pool {
				p := poolSpec("p-2", "HTTP")
				p.ListenerID = "l-1"
				return p
			}()}, wantErr: &Error{Conflict, "This listener already has a default pool"}},
		{name: "unknown listener", given: activeLB(), when: CreatePool{Spec: forListener},
			wantErr: &Error{NotFound, "Listener l-2 not found."}},
		{name: "protocol the listener cannot use", given: seq(activeLB(), withListener(listenerSpec("l-2", "UDP", 53))),
			when:    CreatePool{Spec: forListener},
			wantErr: &Error{Invalid, "Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."}},
		{name: "create on a locked LB", given: lockedLB(), when: CreatePool{Spec: poolSpec("p-2", "TCP")},
			wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "APP_COOKIE without cookie name", given: activeLB(), when: CreatePool{Spec: sp("HTTP", events.SessionPersistence{Type: "APP_COOKIE"})},
			wantErr: &Error{Invalid, `Validation failure: Field "cookie_name" must be specified when using the "APP_COOKIE" session persistence type.`}},
		{name: "cookie name with HTTP_COOKIE", given: activeLB(), when: CreatePool{Spec: sp("HTTP", events.SessionPersistence{Type: "HTTP_COOKIE", CookieName: ptr("c")})},
			wantErr: &Error{Invalid, `Validation failure: Field "cookie_name" can only be specified with session persistence of type "APP_COOKIE".`}},
		{name: "invalid cookie name", given: activeLB(), when: CreatePool{Spec: sp("HTTP", events.SessionPersistence{Type: "APP_COOKIE", CookieName: ptr("a:b")})},
			wantErr: &Error{Invalid, `Validation failure: Supplied "cookie_name" is invalid.`}},
		{name: "HTTP_COOKIE on UDP", given: activeLB(), when: CreatePool{Spec: sp("UDP", events.SessionPersistence{Type: "HTTP_COOKIE"})},
			wantErr: &Error{Invalid, "Validation failure: Session persistence of type HTTP_COOKIE is not supported for UDP/SCTP protocol pools."}},
		{name: "SOURCE_IP with cookie on UDP", given: activeLB(), when: CreatePool{Spec: sp("UDP", events.SessionPersistence{Type: "SOURCE_IP", CookieName: ptr("c")})},
			wantErr: &Error{Invalid, "Validation failure: session_persistence SOURCE_IP type for UDP and SCTP protocols only accepts: type, persistence_timeout, persistence_granularity."}},
		{name: "persistence timeout on TCP", given: activeLB(), when: CreatePool{Spec: sp("TCP", events.SessionPersistence{Type: "SOURCE_IP", PersistenceTimeout: ptr(10)})},
			wantErr: &Error{Invalid, "Validation failure: persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools."}},
		{name: "SOURCE_IP with timeout on UDP", given: activeLB(), when: CreatePool{Spec: sp("UDP", events.SessionPersistence{Type: "SOURCE_IP", PersistenceTimeout: ptr(10)})},
			then: []events.Event{events.PoolCreateRequested{Pool: sp("UDP", events.SessionPersistence{Type: "SOURCE_IP", PersistenceTimeout: ptr(10)})}}},
		{name: "update keeps the persistence type", given: stickyGraph,
			when: UpdatePool{PoolID: "p-s", Patch: patch(`{"session_persistence":{"cookie_name":"d"}}`)},
			then: []events.Event{events.PoolUpdateRequested{Pool: stickyRenamed}}},
		{name: "update persistence without type and none before", given: graph(),
			when:    UpdatePool{PoolID: "p-1", Patch: patch(`{"session_persistence":{}}`)},
			wantErr: &Error{Invalid, "Validation failure: Invalid session_persistence provided."}},
		{name: "update timeout on HTTP (PUT message)", given: stickyGraph,
			when:    UpdatePool{PoolID: "p-s", Patch: patch(`{"session_persistence":{"type":"SOURCE_IP","persistence_timeout":5}}`)},
			wantErr: &Error{Invalid, "Validation failure: persistence_timeout and persistence_granularity is only for UDP protocol pools."}},
		{name: "remove CA while a CRL is set", given: seq(activeLB(), withPool(withCRL)),
			when:    UpdatePool{PoolID: "p-c", Patch: patch(`{"ca_tls_container_ref":null}`)},
			wantErr: &Error{Invalid, "Validation failure: A CA reference cannot be removed when a certificate revocation list is present."}},
		{name: "CRL without CA", given: graph(),
			when:    UpdatePool{PoolID: "p-1", Patch: patch(`{"crl_container_ref":"crl"}`)},
			wantErr: &Error{Invalid, "Validation failure: A CA reference is required to specify a certificate revocation list."}},
		{name: "update unknown", given: graph(), when: UpdatePool{PoolID: "p-x", Patch: patch(`{}`)},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "delete", given: graph(), when: DeletePool{PoolID: "p-1"},
			then: []events.Event{events.PoolDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1"}}},
		{name: "delete on a locked LB", given: lockedLB(), when: DeletePool{PoolID: "p-x"},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
	})
}

func TestDecideMember(t *testing.T) {
	m3 := memberSpec("m-3", "p-1", "10.0.1.3", 80)
	m3.ProjectID = ""
	m3Want := memberSpec("m-3", "p-1", "10.0.1.3", 80)
	heavier := memberSpec("m-1", "p-1", "10.0.1.1", 80)
	heavier.Weight = 7
	heavier.Name = ptr("web")

	poolError := seq(graph(), []events.Event{
		events.PoolUpdateRequested{Pool: poolSpec("p-1", "HTTP")},
		events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "boom"},
	})
	runDecide(t, []decideCase{
		{name: "create", given: graph(), when: CreateMember{Spec: m3},
			then: []events.Event{events.MemberCreateRequested{LoadBalancerID: lbID, Member: m3Want}}},
		{name: "create in an unknown pool", given: graph(), when: CreateMember{Spec: memberSpec("m-3", "p-x", "10.0.1.3", 80)},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "duplicate address and port", given: graph(), when: CreateMember{Spec: memberSpec("m-3", "p-1", "10.0.1.1", 80)},
			wantErr: &Error{Conflict, "Another member on this pool is already using ip 10.0.1.1 on protocol_port 80"}},
		{name: "same address, other port", given: graph(), when: CreateMember{Spec: memberSpec("m-3", "p-1", "10.0.1.1", 81)},
			then: []events.Event{events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-3", "p-1", "10.0.1.1", 81)}}},
		{name: "pool in ERROR", given: poolError, when: CreateMember{Spec: m3},
			wantErr: &Error{Immutable, "Pool p-1 is immutable and cannot be updated."}},
		{name: "pool locked by a member change", given: seq(graph(), []events.Event{
			events.MemberDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1", MemberID: "m-2"}}),
			when: CreateMember{Spec: m3}, wantErr: &Error{Immutable, "Pool p-1 is immutable and cannot be updated."}},
		{name: "LB locked by another pool", given: seq(graph(), []events.Event{
			events.PoolCreateRequested{Pool: poolSpec("p-9", "TCP")}}),
			when: CreateMember{Spec: m3}, wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "update merges, address fixed", given: graph(),
			when: UpdateMember{PoolID: "p-1", MemberID: "m-1", Patch: patch(`{"weight":7,"name":"web","address":"1.1.1.1"}`)},
			then: []events.Event{events.MemberUpdateRequested{LoadBalancerID: lbID, Member: heavier}}},
		{name: "update a member of another pool", given: seq(graph(), withPool(poolSpec("p-2", "TCP"))),
			when:    UpdateMember{PoolID: "p-2", MemberID: "m-1", Patch: patch(`{}`)},
			wantErr: &Error{NotFound, "Member m-1 not found."}},
		{name: "update in an unknown pool", given: graph(),
			when:    UpdateMember{PoolID: "p-x", MemberID: "m-1", Patch: patch(`{}`)},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "delete", given: graph(), when: DeleteMember{PoolID: "p-1", MemberID: "m-2"},
			then: []events.Event{events.MemberDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1", MemberID: "m-2"}}},
		{name: "delete unknown", given: graph(), when: DeleteMember{PoolID: "p-1", MemberID: "m-x"},
			wantErr: &Error{NotFound, "Member m-x not found."}},
	})
}

func TestDecideBatchUpdateMembers(t *testing.T) {
	keep := memberSpec("new-id-ignored", "", "10.0.1.1", 80)
	keep.Weight = 5
	keepWant := memberSpec("m-1", "p-1", "10.0.1.1", 80)
	keepWant.Weight = 5
	keepWant.Name, keepWant.Tags = ptr("web"), []string{"t"}
	named := memberSpec("m-1", "p-1", "10.0.1.1", 80)
	named.Name, named.Tags = ptr("web"), []string{"t"}
	namedGraph := seq(graph(), []events.Event{events.MemberUpdateRequested{LoadBalancerID: lbID, Member: named}, applied()})
	fresh := memberSpec("m-3", "", "10.0.1.3", 80)
	freshWant := memberSpec("m-3", "p-1", "10.0.1.3", 80)

	runDecide(t, []decideCase{
		{name: "update, create and delete", given: namedGraph,
			when: BatchUpdateMembers{PoolID: "p-1", Members: []events.Member{keep, fresh}},
			then: []events.Event{events.MembersBatchUpdateRequested{LoadBalancerID: lbID, PoolID: "p-1",
				Created: []events.Member{freshWant}, Updated: []events.Member{keepWant}, Deleted: []string{"m-2"}}}},
		{name: "additive keeps unlisted members", given: graph(),
			when: BatchUpdateMembers{PoolID: "p-1", Members: []events.Member{fresh}, Additive: true},
			then: []events.Event{events.MembersBatchUpdateRequested{LoadBalancerID: lbID, PoolID: "p-1",
				Created: []events.Member{freshWant}}}},
		{name: "empty list deletes every member", given: graph(),
			when: BatchUpdateMembers{PoolID: "p-1"},
			then: []events.Event{events.MembersBatchUpdateRequested{LoadBalancerID: lbID, PoolID: "p-1",
				Deleted: []string{"m-1", "m-2"}}}},
		{name: "additive empty list still locks, as Octavia", given: graph(),
			when: BatchUpdateMembers{PoolID: "p-1", Additive: true},
			then: []events.Event{events.MembersBatchUpdateRequested{LoadBalancerID: lbID, PoolID: "p-1"}}},
		{name: "nothing listed, nothing there: no-op", given: seq(activeLB(), withPool(poolSpec("p-2", "TCP"))),
			when: BatchUpdateMembers{PoolID: "p-2"}, then: nil},
		{name: "no-op still needs a mutable LB", given: seq(activeLB(), withPool(poolSpec("p-2", "TCP")),
			[]events.Event{events.ListenerCreateRequested{Listener: listenerSpec("l-9", "TCP", 9)}}),
			when: BatchUpdateMembers{PoolID: "p-2"}, wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "the same new member twice", given: graph(),
			when:    BatchUpdateMembers{PoolID: "p-1", Members: []events.Member{fresh, memberSpec("m-4", "", "10.0.1.3", 80)}},
			wantErr: &Error{Conflict, "Another member on this pool is already using ip 10.0.1.3 on protocol_port 80"}},
		{name: "unknown pool", given: graph(), when: BatchUpdateMembers{PoolID: "p-x"},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
	})
}

func TestDecideHealthMonitor(t *testing.T) {
	h := hmSpec("h-1", "p-1", "HTTP")
	h.ProjectID = ""
	hWant := hmSpec("h-1", "p-1", "HTTP")
	udpPool := seq(activeLB(), withPool(poolSpec("p-u", "UDP")))
	withTCPMonitor := seq(graph(), withHM(hmSpec("h-1", "p-1", "TCP")))
	httpMon := hmSpec("h-1", "p-1", "HTTP")
	httpMon.DomainName = ptr("example.org")
	httpMon.HTTPVersion = ptr(1.1)
	withHTTPMonitor := seq(graph(), withHM(httpMon))
	slower := hmSpec("h-1", "p-1", "TCP")
	slower.Delay, slower.Name = 30, ptr("hm")

	runDecide(t, []decideCase{
		{name: "create", given: graph(), when: CreateHealthMonitor{Spec: h},
			then: []events.Event{events.HealthMonitorCreateRequested{LoadBalancerID: lbID, HealthMonitor: hWant}}},
		{name: "second monitor", given: withTCPMonitor, when: CreateHealthMonitor{Spec: hmSpec("h-2", "p-1", "HTTP")},
			wantErr: &Error{Conflict, "This pool already has a health monitor"}},
		{name: "unknown pool", given: graph(), when: CreateHealthMonitor{Spec: hmSpec("h-2", "p-x", "HTTP")},
			wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "UDP-CONNECT on HTTP pool", given: graph(), when: CreateHealthMonitor{Spec: hmSpec("h-2", "p-1", "UDP-CONNECT")},
			wantErr: &Error{Invalid, "Validation failure: The UDP-CONNECT type is only supported for pools of type UDP/SCTP."}},
		{name: "HTTPS monitor on UDP pool", given: udpPool, when: CreateHealthMonitor{Spec: hmSpec("h-2", "p-u", "HTTPS")},
			wantErr: &Error{Invalid, "Validation failure: The associated pool protocol is UDP, so only a UDP-CONNECT/SCTP/TCP/HTTP health monitor is supported."}},
		{name: "UDP-CONNECT too fast", given: udpPool, when: CreateHealthMonitor{Spec: func() events.HealthMonitor {
			m := hmSpec("h-2", "p-u", "UDP-CONNECT")
			m.Delay = 2
			return m
		}()}, wantErr: &Error{Invalid, "Validation failure: The request delay value 2 should be larger than 3 for UDP-CONNECT health monitor type."}},
		{name: "pool locked", given: seq(graph(), []events.Event{
			events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-9", "p-1", "10.9.9.9", 1)}}),
			when: CreateHealthMonitor{Spec: h}, wantErr: &Error{Immutable, "Pool p-1 is immutable and cannot be updated."}},
		{name: "update merges, type fixed", given: withTCPMonitor,
			when: UpdateHealthMonitor{HealthMonitorID: "h-1", Patch: patch(`{"delay":30,"name":"hm","type":"HTTP"}`)},
			then: []events.Event{events.HealthMonitorUpdateRequested{LoadBalancerID: lbID, HealthMonitor: slower}}},
		{name: "url_path on a TCP monitor", given: withTCPMonitor,
			when:    UpdateHealthMonitor{HealthMonitorID: "h-1", Patch: patch(`{"url_path":"/x"}`)},
			wantErr: &Error{Invalid, "url_path is not a valid option for health monitors of type TCP"}},
		{name: "null delay", given: withTCPMonitor,
			when:    UpdateHealthMonitor{HealthMonitorID: "h-1", Patch: patch(`{"delay":null}`)},
			wantErr: &Error{Invalid, "None is not a valid option for delay"}},
		{name: "domain name without HTTP version", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP"))),
			when:    UpdateHealthMonitor{HealthMonitorID: "h-1", Patch: patch(`{"domain_name":"a.example"}`)},
			wantErr: &Error{Invalid, "Validation failure: 'http_version' must be specified when 'domain_name' is provided."}},
		{name: "HTTP/1.0 with a domain name", given: withHTTPMonitor,
			when:    UpdateHealthMonitor{HealthMonitorID: "h-1", Patch: patch(`{"http_version":1.0}`)},
			wantErr: &Error{Invalid, "http_version 1.0 is not a valid option for health monitors HTTP 1.1 domain name health check"}},
		{name: "update unknown", given: graph(), when: UpdateHealthMonitor{HealthMonitorID: "h-x", Patch: patch(`{}`)},
			wantErr: &Error{NotFound, "Health Monitor h-x not found."}},
		{name: "delete", given: withTCPMonitor, when: DeleteHealthMonitor{HealthMonitorID: "h-1"},
			then: []events.Event{events.HealthMonitorDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1", HealthMonitorID: "h-1"}}},
		{name: "delete unknown", given: graph(), when: DeleteHealthMonitor{HealthMonitorID: "h-x"},
			wantErr: &Error{NotFound, "Health Monitor h-x not found."}},
	})
}

func TestDecideSaga(t *testing.T) {
	vip := events.VipAllocated{VipAddress: "10.0.0.10", VipPortID: "port-1", VipSubnetID: "subnet-1", VipNetworkID: "net-1"}
	vipWant := vip
	vipWant.LoadBalancerID = lbID
	created := activeLB()[:1]
	pendingChild := seq(graph(), []events.Event{events.PoolUpdateRequested{Pool: poolSpec("p-1", "HTTP")}})
	deleting := seq(activeLB(), []events.Event{events.LoadBalancerDeleteRequested{LoadBalancerID: lbID}})
	gone := seq(deleting, []events.Event{events.LoadBalancerDeleted{LoadBalancerID: lbID}})

	runDecide(t, []decideCase{
		{name: "VIP on an unknown LB", when: RecordVipAllocated{Vip: vip}, wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
		{name: "VIP allocated", given: created, when: RecordVipAllocated{Vip: vip}, then: []events.Event{vipWant}},
		{name: "VIP allocated again", given: activeLB(), when: RecordVipAllocated{Vip: vip}, then: nil},
		{name: "VIP released", given: deleting, when: RecordVipReleased{VipPortID: "port-1"},
			then: []events.Event{events.VipReleased{LoadBalancerID: lbID, VipPortID: "port-1"}}},
		{name: "VIP released again", given: seq(deleting, []events.Event{events.VipReleased{LoadBalancerID: lbID}}),
			when: RecordVipReleased{VipPortID: "port-1"}, then: nil},
		{name: "amphora booted", given: created, when: RecordAmphoraBooted{Amphora: events.Amphora{ID: "amp-1"}},
			then: []events.Event{events.AmphoraBooted{LoadBalancerID: lbID, Amphora: events.Amphora{ID: "amp-1", LoadBalancerID: lbID}}}},
		{name: "amphora booted again", given: activeLB(), when: RecordAmphoraBooted{Amphora: events.Amphora{ID: "amp-1"}}, then: nil},
		{name: "amphora deleted", given: deleting, when: RecordAmphoraDeleted{AmphoraID: "amp-1", Reason: "delete"},
			then: []events.Event{events.AmphoraDeleted{LoadBalancerID: lbID, AmphoraID: "amp-1", Reason: "delete"}}},
		{name: "unknown amphora deleted", given: activeLB(), when: RecordAmphoraDeleted{AmphoraID: "amp-x"}, then: nil},
		{name: "amphora deleted after the LB is gone", given: gone, when: RecordAmphoraDeleted{AmphoraID: "amp-1"},
			then: []events.Event{events.AmphoraDeleted{LoadBalancerID: lbID, AmphoraID: "amp-1"}}},
		{name: "activate a created LB", given: created, when: ActivateLoadBalancer{},
			then: []events.Event{events.LoadBalancerActivated{LoadBalancerID: lbID}}},
		{name: "activate an ACTIVE LB", given: activeLB(), when: ActivateLoadBalancer{}, then: nil},
		{name: "activate a deleting LB", given: deleting, when: ActivateLoadBalancer{}, then: nil},
		{name: "configuration applied", given: pendingChild, when: RecordConfigurationApplied{StreamVersion: 13},
			then: []events.Event{events.ConfigurationApplied{LoadBalancerID: lbID, StreamVersion: 13}}},
		{name: "configuration applied, current version", given: pendingChild, when: RecordConfigurationApplied{},
			then: []events.Event{events.ConfigurationApplied{LoadBalancerID: lbID, StreamVersion: 13}}},
		{name: "stale configuration", given: pendingChild, when: RecordConfigurationApplied{StreamVersion: 12}, then: nil},
		{name: "configuration applied when idle", given: graph(), when: RecordConfigurationApplied{StreamVersion: 14}, then: nil},
		{name: "configuration applied during create", given: created, when: RecordConfigurationApplied{StreamVersion: 1}, then: nil},
		{name: "configuration failed", given: pendingChild, when: RecordConfigurationFailed{StreamVersion: 13, Reason: "x"},
			then: []events.Event{events.ConfigurationFailed{LoadBalancerID: lbID, StreamVersion: 13, Reason: "x"}}},
		{name: "configuration failed when idle", given: graph(), when: RecordConfigurationFailed{Reason: "x"}, then: nil},
		{name: "provisioning failed", given: created, when: FailProvisioning{Step: "vip", Reason: "no ports"},
			then: []events.Event{events.LoadBalancerProvisioningFailed{LoadBalancerID: lbID, Operation: "create", Step: "vip", Reason: "no ports"}}},
		{name: "provisioning failed when idle", given: activeLB(), when: FailProvisioning{Reason: "x"}, then: nil},
		{name: "deleted", given: deleting, when: RecordLoadBalancerDeleted{},
			then: []events.Event{events.LoadBalancerDeleted{LoadBalancerID: lbID}}},
		{name: "deleted again", given: gone, when: RecordLoadBalancerDeleted{}, then: nil},
		{name: "deleted without a delete", given: activeLB(), when: RecordLoadBalancerDeleted{},
			wantErr: &Error{Invalid, "Load Balancer lb-1 is not being deleted (provisioning status ACTIVE)."}},
		{name: "activate a gone LB", given: gone, when: ActivateLoadBalancer{}, wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
		{name: "operating statuses: only changes", given: graph(), when: RecordOperatingStatuses{Change: events.OperatingStatusesChanged{
			LoadBalancer: "OFFLINE", Listeners: map[string]string{"l-1": "ONLINE"},
			Members: map[string]string{"m-1": "NO_MONITOR", "m-2": "ERROR", "m-x": "ONLINE"}}},
			then: []events.Event{events.OperatingStatusesChanged{LoadBalancerID: lbID,
				Listeners: map[string]string{"l-1": "ONLINE"}, Members: map[string]string{"m-2": "ERROR"}}}},
		{name: "operating statuses: nothing new", given: graph(), when: RecordOperatingStatuses{Change: events.OperatingStatusesChanged{
			LoadBalancer: "OFFLINE", Members: map[string]string{"m-1": "NO_MONITOR"}}}, then: nil},
	})
}
