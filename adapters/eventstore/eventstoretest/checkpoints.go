package eventstoretest

import (
	"context"
	"testing"
)

// Checkpoints is the named-position table every store keeps beside its
// events (the bus forwarder's resume point).
type Checkpoints interface {
	Get(ctx context.Context, name string) (int64, error)
	Set(ctx context.Context, name string, position int64) error
}

// RunCheckpoints checks a store's checkpoints on a fresh store: unset names
// read 0, Set overwrites (also backwards), and an empty name or a negative
// position is refused without changing anything.
func RunCheckpoints(t *testing.T, ctx context.Context, cp Checkpoints) {
	t.Helper()
	if got, err := cp.Get(ctx, "unset"); err != nil || got != 0 {
		t.Fatalf("Get(unset) = %d, %v; want 0, nil", got, err)
	}
	steps := []struct {
		name    string
		pos     int64
		wantErr bool
	}{
		{"a", 5, false},
		{"b", 9, false},
		{"a", 12, false},
		{"a", 3, false}, // a reset backwards is the caller's business
		{"", 1, true},
		{"a", -1, true},
	}
	want := map[string]int64{}
	for _, st := range steps {
		err := cp.Set(ctx, st.name, st.pos)
		if (err != nil) != st.wantErr {
			t.Fatalf("Set(%q, %d) err = %v, wantErr %v", st.name, st.pos, err, st.wantErr)
		}
		if err == nil {
			want[st.name] = st.pos
		}
	}
	for name, pos := range want {
		if got, err := cp.Get(ctx, name); err != nil || got != pos {
			t.Errorf("Get(%q) = %d, %v; want %d", name, got, err, pos)
		}
	}
}
