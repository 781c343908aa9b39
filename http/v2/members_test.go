package v2_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

const membersPath = "/v2/lbaas/pools/" + poolID + "/members"

func TestCreateMember(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	m := e.do(http.MethodPost, membersPath, `{"member": {"address": "10.0.0.30", "protocol_port": 80, "subnet_id": "`+subnetID+`"}}`).
		expectStatus(http.StatusCreated).obj("member")
	if m["provisioning_status"] != "PENDING_CREATE" || m["weight"] != float64(1) || m["backup"] != false {
		t.Errorf("body %v", m)
	}
	spec := e.cmds.LastCall().Command.(loadbalancer.CreateMember).Spec
	want := events.Member{ID: newID, ProjectID: "tenant-a", PoolID: poolID, AdminStateUp: true, Address: "10.0.0.30",
		ProtocolPort: 80, Weight: 1, SubnetID: ptr(subnetID)}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("spec\n got %+v\nwant %+v", spec, want)
	}
}

func TestMemberRefusals(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
		pecan                    bool
	}{
		{"unknown pool", http.MethodGet, "/v2/lbaas/pools/" + unknownID + "/members", "", 404, "Pool " + unknownID + " not found.", true},
		{"unknown pool on create", http.MethodPost, "/v2/lbaas/pools/" + unknownID + "/members",
			`{"member": {"address": "10.0.0.1", "protocol_port": 80}}`, 404, "Pool " + unknownID + " not found.", true},
		{"reserved address", http.MethodPost, membersPath, `{"member": {"address": "169.254.169.254", "protocol_port": 80}}`, 400,
			"169.254.169.254 is not a valid option for member address", false},
		{"unknown subnet", http.MethodPost, membersPath, `{"member": {"address": "10.0.0.1", "protocol_port": 80, "subnet_id": "` + unknownID + `"}}`, 400,
			"Subnet " + unknownID + " not found.", false},
		{"null port", http.MethodPost, membersPath, `{"member": {"address": "10.0.0.1", "protocol_port": null}}`, 400,
			"Invalid input for field/attribute protocol_port. Value: 'None'. Mandatory field missing.", false},
		{"unknown member", http.MethodGet, membersPath + "/" + unknownID, "", 404, "Member " + unknownID + " not found.", false},
		{"unknown member update", http.MethodPut, membersPath + "/" + unknownID, `{"member": {}}`, 404, "Member " + unknownID + " not found.", false},
		{"address is immutable", http.MethodPut, membersPath + "/" + memberID, `{"member": {"address": "10.0.0.2"}}`, 400,
			"Unknown attribute for argument member_.member: address", false},
		{"batch without members", http.MethodPut, membersPath, `{}`, 400,
			"Invalid input for field/attribute members. Value: 'None'. Mandatory field missing.", false},
		{"batch with reserved address", http.MethodPut, membersPath, `{"members": [{"address": "169.254.169.254", "protocol_port": 80}]}`, 400,
			"169.254.169.254 is not a valid option for member address", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.activeGraph()
			resp := e.do(tt.method, tt.path, tt.body)
			if tt.pecan {
				resp.expectPecan(tt.status, tt.want)
			} else {
				resp.expectFault(tt.status, tt.want)
			}
			if n := e.cmds.CallCount(); n != 0 {
				t.Errorf("%d commands issued", n)
			}
		})
	}
}

func TestGetListUpdateDeleteMember(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	m := e.do(http.MethodGet, membersPath+"/"+memberID, "").expectStatus(200).obj("member")
	if m["id"] != memberID || m["address"] != "10.0.0.20" {
		t.Errorf("get %v", m)
	}
	list := e.do(http.MethodGet, membersPath+"?fields=address", "").expectStatus(200).json()
	items := list["members"].([]any)
	if len(items) != 1 || !reflect.DeepEqual(items[0], map[string]any{"address": "10.0.0.20"}) || e.read.LastPool != poolID {
		t.Errorf("list %v", list)
	}
	if _, ok := list["members_links"]; !ok {
		t.Error("no members_links")
	}
	u := e.do(http.MethodPut, membersPath+"/"+memberID, `{"member": {"weight": null, "backup": null, "name": "m"}}`).
		expectStatus(200).obj("member")
	if u["weight"] != float64(1) || u["name"] != "m" || u["provisioning_status"] != "PENDING_UPDATE" {
		t.Errorf("update %v", u)
	}
	cmd := e.cmds.LastCall().Command.(loadbalancer.UpdateMember)
	if cmd.PoolID != poolID || cmd.MemberID != memberID || string(cmd.Patch["weight"]) != "1" || string(cmd.Patch["backup"]) != "false" {
		t.Errorf("command %+v", cmd)
	}
	e.do(http.MethodDelete, membersPath+"/"+memberID, "").expectStatus(http.StatusNoContent)
	if d, ok := e.cmds.LastCall().Command.(loadbalancer.DeleteMember); !ok || d.MemberID != memberID || d.PoolID != poolID {
		t.Errorf("delete %#v", e.cmds.LastCall().Command)
	}
}

func TestBatchUpdateMembers(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	resp := e.do(http.MethodPut, membersPath+"?additive_only=True",
		`{"members": [{"address": "10.0.0.20", "protocol_port": 8080, "weight": 9}, {"address": "10.0.0.21", "protocol_port": 80, "name": "new"}]}`)
	resp.expectStatus(http.StatusAccepted)
	if resp.Body.Len() != 0 {
		t.Errorf("202 body %q", resp.Body.String())
	}
	cmd := e.cmds.LastCall().Command.(loadbalancer.BatchUpdateMembers)
	want := []events.Member{
		{ID: memberID, ProjectID: "tenant-a", PoolID: poolID, AdminStateUp: true, Address: "10.0.0.20", ProtocolPort: 8080,
			Weight: 9, Tags: []string{"keep"}},
		{ID: newID, ProjectID: "tenant-a", PoolID: poolID, Name: ptr("new"), AdminStateUp: true, Address: "10.0.0.21",
			ProtocolPort: 80, Weight: 1},
	}
	if cmd.PoolID != poolID || !cmd.Additive || !reflect.DeepEqual(cmd.Members, want) {
		t.Errorf("command\n got %+v\nwant %+v", cmd, want)
	}
	e.do(http.MethodPut, membersPath+"?bogus=1", `{"members": []}`).expectFault(400, `Unknown argument: "bogus"`)
}

func TestBatchUpdateNoop(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	s := e.state()
	delete(s.Members, memberID)
	e.cmds.Put(s)
	e.do(http.MethodPut, membersPath, `{"members": []}`).expectStatus(http.StatusAccepted)
	if n := e.cmds.CallCount(); n != 0 {
		t.Errorf("no-op batch issued %d commands", n)
	}
}
