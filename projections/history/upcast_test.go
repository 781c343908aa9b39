package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/auth"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/http/v2/v2fake"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history"
)

// memberV1 is member.create_requested as schema version 1 recorded it: the
// port was "port", the weight a string, and there was no backup flag.
const memberV1 = `{"loadbalancer_id": %q, "member": {"id": "m-old", "project_id": "p1", "pool_id": "pool-1",
	"name": "from v1", "admin_state_up": true, "address": "10.0.0.5", "port": 8080, "weight": "3"}}`

// upMemberV1 turns a version 1 member.create_requested into version 2.
func upMemberV1(raw json.RawMessage) (json.RawMessage, error) {
	var ev struct {
		LoadBalancerID string                     `json:"loadbalancer_id"`
		Member         map[string]json.RawMessage `json:"member"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	m := ev.Member
	if port, ok := m["port"]; ok {
		m["protocol_port"] = port
		delete(m, "port")
	}
	var weight string
	if err := json.Unmarshal(m["weight"], &weight); err == nil {
		n, err := strconv.Atoi(weight)
		if err != nil {
			return nil, fmt.Errorf("weight %q: %w", weight, err)
		}
		m["weight"] = json.RawMessage(strconv.Itoa(n))
	}
	if _, ok := m["backup"]; !ok {
		m["backup"] = json.RawMessage(`false`)
	}
	if _, ok := m["tags"]; !ok {
		m["tags"] = json.RawMessage(`[]`)
	}
	return json.Marshal(ev)
}

// registryV2 is the registry of a build where member.create_requested is at
// schema version 2, with its upcaster.
func registryV2() *events.Registry {
	reg := events.NewRegistry()
	reg.Register(events.MemberCreateRequested{}, 2)
	reg.AddUpcaster(events.Upcaster{Type: "member.create_requested", From: 1, Up: upMemberV1})
	return reg
}

// TestStoredV1EventsReadAsV2: events stored at schema version 1, in the old
// payload shape, are read as version 2 everywhere: by the aggregate (which
// then decides on them), by the history reader and its as_of folds, by the
// HTTP event history API, and by a replay of the read model. New events are
// stored at version 2 beside them.
func TestStoredV1EventsReadAsV2(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := registryV2()
	cmds := loadbalancer.NewHandler(store, reg, nil)
	const lb = "lb-evolved"
	tenant := events.Metadata{Actor: events.Actor{ProjectID: "p1"}}
	exec := func(md events.Metadata, cmd loadbalancer.Command) loadbalancer.Result {
		t.Helper()
		res, err := cmds.Execute(ctx, lb, cmd, md)
		if err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
		return res
	}
	subnet := "subnet-1"
	exec(tenant, loadbalancer.CreateLoadBalancer{Spec: events.LoadBalancer{ID: lb, ProjectID: "p1", AdminStateUp: true,
		VipSubnetID: &subnet, Provider: "amphora", Tags: []string{}},
		Vip: &events.VipAllocated{VipAddress: "10.0.0.1", VipPortID: "port-1", VipSubnetID: subnet, VipNetworkID: "net-1"}})
	exec(events.Metadata{}, loadbalancer.ActivateLoadBalancer{})
	exec(tenant, loadbalancer.CreateListener{Spec: events.Listener{ID: "listener-1", ProjectID: "p1", LoadBalancerID: lb,
		AdminStateUp: true, Protocol: "HTTP", ProtocolPort: 80, ConnectionLimit: -1, ClientAuthentication: "NONE", Tags: []string{}}})
	exec(events.Metadata{}, loadbalancer.RecordConfigurationApplied{})
	exec(tenant, loadbalancer.CreatePool{Spec: events.Pool{ID: "pool-1", ProjectID: "p1", LoadBalancerID: lb, ListenerID: "listener-1",
		AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN", Tags: []string{}}})
	res := exec(events.Metadata{}, loadbalancer.RecordConfigurationApplied{})

	// What a build of schema version 1 recorded.
	old, err := store.Append(ctx, events.StreamFor(lb), res.State.Version, []events.Envelope{{
		Type: "member.create_requested", SchemaVersion: 1, Actor: tenant.Actor,
		Data: json.RawMessage(fmt.Sprintf(memberV1, lb)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	v1Pos := old[0].Position

	// The aggregate decides on the upcast member: it settles it, updates it
	// (its port known), and records a new member at version 2.
	exec(events.Metadata{}, loadbalancer.RecordConfigurationApplied{})
	exec(tenant, loadbalancer.UpdateMember{PoolID: "pool-1", MemberID: "m-old", Patch: loadbalancer.Patch{"weight": json.RawMessage(`5`)}})
	exec(events.Metadata{}, loadbalancer.RecordConfigurationApplied{})
	res = exec(tenant, loadbalancer.CreateMember{Spec: events.Member{ID: "m-new", ProjectID: "p1", PoolID: "pool-1",
		AdminStateUp: true, Address: "10.0.0.6", ProtocolPort: 8080, Weight: 1, Tags: []string{}}})
	v2Pos := res.Position
	exec(events.Metadata{}, loadbalancer.RecordConfigurationApplied{})

	t.Run("stored as written", func(t *testing.T) {
		for pos, want := range map[int64]int{v1Pos: 1, v2Pos: 2} {
			envs, err := store.ReadAll(ctx, pos-1, 1)
			if err != nil || len(envs) != 1 || envs[0].Type != "member.create_requested" || envs[0].SchemaVersion != want {
				t.Errorf("position %d: %+v, %v; want member.create_requested at schema %d", pos, envs, err, want)
			}
		}
	})

	t.Run("aggregate", func(t *testing.T) {
		s, err := cmds.Load(ctx, lb)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := s.Members["m-old"]
		if !ok || m.Spec.ProtocolPort != 8080 || m.Spec.Weight != 5 || m.Spec.Address != "10.0.0.5" ||
			m.Spec.Tags == nil || m.ProvisioningStatus != loadbalancer.Active {
			t.Errorf("member from v1: %+v", m)
		}
		if _, ok := s.Members["m-new"]; !ok {
			t.Error("member from v2 missing")
		}
	})

	reader := history.NewReader(store, reg)
	t.Run("history reader", func(t *testing.T) {
		page, _, err := reader.LoadBalancer(ctx, lb, history.PageRequest{Limit: 100, Filter: history.Filter{Types: []string{"member.create_requested"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2 {
			t.Fatalf("%d member creates", len(page.Items))
		}
		oldItem, newItem := page.Items[0], page.Items[1]
		if oldItem.Position != v1Pos || oldItem.SchemaVersion != 2 || oldItem.StoredSchema != 1 ||
			!strings.Contains(string(oldItem.Data), `"protocol_port":8080`) || !strings.Contains(string(oldItem.Data), `"weight":3`) ||
			strings.Contains(string(oldItem.Data), `"port"`) {
			t.Errorf("v1 item: %+v %s", oldItem, oldItem.Data)
		}
		if newItem.SchemaVersion != 2 || newItem.StoredSchema != 2 {
			t.Errorf("v2 item: %+v", newItem)
		}
		s, _, err := reader.StateAt(ctx, lb, history.At{Position: v1Pos})
		if err != nil {
			t.Fatal(err)
		}
		if m := s.Members["m-old"]; m.Spec.ProtocolPort != 8080 || m.Spec.Weight != 3 || m.ProvisioningStatus != loadbalancer.PendingCreate {
			t.Errorf("as of the v1 event: %+v", m)
		}
		rep, err := history.Verify(ctx, store, reg)
		if err != nil || !rep.OK() {
			t.Errorf("verify with the upcaster: %+v, %v", rep, err)
		}
		// A build with version 2 and no upcaster cannot read the old event:
		// verify says so instead of folding a wrong member.
		bare := events.NewRegistry()
		bare.Register(events.MemberCreateRequested{}, 2)
		rep, err = history.Verify(ctx, store, bare)
		if err != nil || rep.ProblemCount != 1 || rep.Problems[0].Position != v1Pos ||
			!strings.Contains(rep.Problems[0].Message, "no upcaster from schema version 1") {
			t.Errorf("verify without the upcaster: %+v, %v", rep, err)
		}
	})

	t.Run("HTTP history API", func(t *testing.T) {
		api, err := v2.New(v2.Config{ReadYourWritesTimeout: time.Second, PaginationMaxLimit: 1000}, v2.Deps{
			Commands: cmds, ReadModel: v2fake.NewReadModel(), Events: store, Subnets: v2fake.Subnets{},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), History: store, Registry: reg,
		})
		if err != nil {
			t.Fatal(err)
		}
		r := chi.NewRouter()
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), auth.Identity{ProjectID: "p1"})))
			})
		})
		r.Route("/v2", api.Routes)
		get := func(path string, into any) {
			t.Helper()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://octavia.test"+path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
			}
			if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
				t.Fatal(err)
			}
		}
		var list struct {
			Events []struct {
				Position      int64 `json:"position"`
				SchemaVersion int   `json:"schema_version"`
				StoredSchema  int   `json:"stored_schema_version"`
				Data          struct {
					Member events.Member `json:"member"`
				} `json:"data"`
			} `json:"events"`
		}
		get("/v2/lbaas/loadbalancers/"+lb+"/events?type=member.create_requested", &list)
		if len(list.Events) != 2 {
			t.Fatalf("%d events", len(list.Events))
		}
		if e := list.Events[0]; e.Position != v1Pos || e.SchemaVersion != 2 || e.StoredSchema != 1 ||
			e.Data.Member.ProtocolPort != 8080 || e.Data.Member.Weight != 3 {
			t.Errorf("v1 event over HTTP: %+v", e)
		}
		var tree struct {
			Statuses struct {
				LoadBalancer struct {
					Listeners []struct {
						Pools []struct {
							Members []struct {
								ID                 string `json:"id"`
								ProtocolPort       int    `json:"protocol_port"`
								ProvisioningStatus string `json:"provisioning_status"`
							} `json:"members"`
						} `json:"pools"`
					} `json:"listeners"`
				} `json:"loadbalancer"`
			} `json:"statuses"`
		}
		get(fmt.Sprintf("/v2/lbaas/loadbalancers/%s/status?as_of=%d", lb, v1Pos), &tree)
		if l := tree.Statuses.LoadBalancer.Listeners; len(l) != 1 || len(l[0].Pools) != 1 || len(l[0].Pools[0].Members) != 1 ||
			l[0].Pools[0].Members[0].ID != "m-old" || l[0].Pools[0].Members[0].ProtocolPort != 8080 ||
			l[0].Pools[0].Members[0].ProvisioningStatus != loadbalancer.PendingCreate {
			t.Errorf("status tree as of the v1 event: %+v", tree)
		}
	})

	t.Run("read model replay", func(t *testing.T) {
		path := filepath.Join(dir, "readmodel.db")
		if _, err := projections.Replay(ctx, path, store, reg, projections.ReplayOptions{}); err != nil {
			t.Fatal(err)
		}
		rm, err := projections.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer rm.Close()
		m, err := rm.GetMember(ctx, "pool-1", "m-old")
		if err != nil || m.ProtocolPort != 8080 || m.Weight != 5 || m.ProvisioningStatus != loadbalancer.Active {
			t.Errorf("member in the read model: %+v, %v", m, err)
		}
	})
}
