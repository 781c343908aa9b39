package heartbeat

import (
	"testing"
	"time"
)

func TestReplayRule(t *testing.T) {
	type beat struct {
		amp, boot string
		seq       uint64
		after     time.Duration // since the previous beat
		want      bool
	}
	const gap = 10 * time.Second
	tests := []struct {
		name  string
		beats []beat
	}{
		{"increasing seq is accepted", []beat{
			{"a", "b1", 100, 0, true}, {"a", "b1", 101, time.Second, true}, {"a", "b1", 250, time.Second, true},
		}},
		{"equal or lower seq of the same run is a replay", []beat{
			{"a", "b1", 100, 0, true}, {"a", "b1", 100, time.Second, false}, {"a", "b1", 99, time.Second, false},
			{"a", "b1", 100, time.Hour / 2, false}, {"a", "b1", 101, time.Second, true},
		}},
		{"amphorae are independent", []beat{
			{"a", "b1", 100, 0, true}, {"b", "b2", 5, 0, true}, {"a", "b1", 50, 0, false}, {"b", "b2", 6, 0, true},
		}},
		{"a restart with a lower seq and a new boot id is accepted at once", []beat{
			{"a", "b1", 1000, 0, true}, {"a", "b2", 10, time.Millisecond, true}, {"a", "b2", 11, time.Second, true},
		}},
		{"a replay of an earlier run is dropped, whatever its seq", []beat{
			{"a", "b1", 1000, 0, true}, {"a", "b2", 10, time.Second, true},
			{"a", "b1", 1001, time.Second, false}, {"a", "b1", 5000, time.Minute, false},
			{"a", "b2", 11, time.Second, true},
		}},
		{"without a boot id a lower seq is a replay within the gap", []beat{
			{"a", "", 67, 0, true}, {"a", "", 68, time.Second, true}, {"a", "", 3, gap - time.Second, false},
		}},
		{"without a boot id a lower seq after the gap is a restart", []beat{
			{"a", "", 67, 0, true}, {"a", "", 0, gap + time.Second, true}, {"a", "", 1, time.Second, true},
			{"a", "", 0, time.Second, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newReplayGuard(gap, time.Hour)
			now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, b := range tt.beats {
				now = now.Add(b.after)
				if got := g.accept(Message{AmphoraID: b.amp, BootID: b.boot, Seq: b.seq}, now); got != b.want {
					t.Fatalf("beat #%d %+v: accepted = %v, want %v", i, b, got, b.want)
				}
			}
		})
	}
}

func TestReplayGuardForgetsOldBootsAndSilentAmphorae(t *testing.T) {
	g := newReplayGuard(time.Second, time.Hour)
	now := time.Now()
	boots := []string{"b0"}
	g.accept(Message{AmphoraID: "a", BootID: "b0", Seq: 1}, now)
	for i := 1; i <= maxBoots; i++ {
		boot := "b" + string(rune('a'+i))
		boots = append(boots, boot)
		if !g.accept(Message{AmphoraID: "a", BootID: boot, Seq: 1}, now) {
			t.Fatalf("new boot %s dropped", boot)
		}
	}
	if got := len(g.amps["a"].boots); got != maxBoots {
		t.Fatalf("boots remembered = %d, want %d", got, maxBoots)
	}
	if g.accept(Message{AmphoraID: "a", BootID: boots[1], Seq: 9}, now) {
		t.Fatal("a remembered earlier boot was accepted")
	}
	g.sweep(now.Add(30 * time.Minute))
	if len(g.amps) != 1 {
		t.Fatal("swept an amphora heard from 30 minutes ago")
	}
	g.sweep(now.Add(2 * time.Hour))
	if len(g.amps) != 0 {
		t.Fatal("an amphora silent for 2 hours is still remembered")
	}
}
