package sagas

import (
	"slices"
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// st builds a state by hand: Next reads only the saga fields.
func st(op string, version int64, vip bool, amphorae map[string]string, old ...string) loadbalancer.State {
	s := loadbalancer.NewStateFor("lb-1")
	s.Exists, s.Operation, s.Version, s.VipAllocated, s.FailoverOld = true, op, version, vip, old
	for id, role := range amphorae {
		s.Amphorae[id] = events.Amphora{ID: id, Role: role}
	}
	return s
}

func TestNext(t *testing.T) {
	gone := st(OpDelete, 9, false, nil)
	gone.Gone = true
	missing := st(OpCreate, 1, false, nil)
	missing.Exists = false
	one := map[string]string{"a1": "STANDALONE"}
	oldAndNew := map[string]string{"a1": "STANDALONE", "b2": "STANDALONE"}

	tests := []struct {
		name  string
		state loadbalancer.State
		want  Step
	}{
		{"idle", st("", 5, true, one), Step{}},
		{"gone", gone, Step{}},
		{"no stream", missing, Step{}},
		{"unknown operation", st("teleport", 5, true, one), Step{}},

		{"create: vip first", st(OpCreate, 1, false, nil), Step{Kind: AllocateVIP, Operation: OpCreate}},
		{"create: then an amphora", st(OpCreate, 2, true, nil), Step{Kind: BootAmphora, Operation: OpCreate, Role: RoleStandalone}},
		{"create: then configure", st(OpCreate, 3, true, one), Step{Kind: ConfigureAndActivate, Operation: OpCreate, Amphorae: []string{"a1"}}},

		{"update: apply at version", st(OpUpdate, 7, true, oldAndNew), Step{Kind: ApplyConfiguration, Operation: OpUpdate, Amphorae: []string{"a1", "b2"}, StreamVersion: 7}},
		{"update: no amphora still applies", st(OpUpdate, 7, true, nil), Step{Kind: ApplyConfiguration, Operation: OpUpdate, StreamVersion: 7}},

		{"delete: amphorae first", st(OpDelete, 8, true, oldAndNew), Step{Kind: DeleteAmphorae, Operation: OpDelete, Amphorae: []string{"a1", "b2"}}},
		{"delete: then the vip", st(OpDelete, 9, true, nil), Step{Kind: ReleaseVIP, Operation: OpDelete}},
		{"delete: then record", st(OpDelete, 10, false, nil), Step{Kind: RecordDeleted, Operation: OpDelete}},

		{"failover: boot with the old role", st(OpFailover, 4, true, map[string]string{"a1": "MASTER"}, "a1"), Step{Kind: BootAmphora, Operation: OpFailover, Role: "MASTER"}},
		{"failover: delete the old", st(OpFailover, 5, true, oldAndNew, "a1"), Step{Kind: DeleteOldAmphorae, Operation: OpFailover, Amphorae: []string{"a1"}}},
		{"failover: configure the new", st(OpFailover, 6, true, map[string]string{"b2": "STANDALONE"}), Step{Kind: ConfigureAndActivate, Operation: OpFailover, Amphorae: []string{"b2"}}},
		{"failover: without amphorae boots one", st(OpFailover, 4, true, nil), Step{Kind: BootAmphora, Operation: OpFailover, Role: RoleStandalone}},
		{"failover: a released vip is allocated again", st(OpFailover, 4, false, one, "a1"), Step{Kind: AllocateVIP, Operation: OpFailover}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.state)
			if tt.want.Kind == BootAmphora {
				if got.AmphoraID == "" {
					t.Fatalf("BootAmphora without an amphora id: %+v", got)
				}
				tt.want.AmphoraID = got.AmphoraID
			}
			if got.Kind != tt.want.Kind || got.Operation != tt.want.Operation || got.Role != tt.want.Role ||
				got.StreamVersion != tt.want.StreamVersion || got.AmphoraID != tt.want.AmphoraID ||
				!slices.Equal(got.Amphorae, tt.want.Amphorae) {
				t.Fatalf("Next = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The id of a new amphora is a function of the LB and the version the boot
// was decided at: a retry after a crash boots the same amphora, a later
// boot (failover) another.
func TestNextAmphoraIDIsDeterministic(t *testing.T) {
	a := Next(st(OpCreate, 2, true, nil))
	b := Next(st(OpCreate, 2, true, nil))
	c := Next(st(OpCreate, 3, true, nil))
	other := st(OpCreate, 2, true, nil)
	other.ID = "lb-2"
	d := Next(other)
	if a.AmphoraID != b.AmphoraID {
		t.Fatalf("same state, different ids: %s %s", a.AmphoraID, b.AmphoraID)
	}
	if a.AmphoraID == c.AmphoraID || a.AmphoraID == d.AmphoraID {
		t.Fatalf("different versions or LBs share amphora id %s", a.AmphoraID)
	}
}
