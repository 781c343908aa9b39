package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// quickPlan is DefaultPlan scaled down so a test runs in about a second.
func quickPlan(sizes ...int) Plan {
	return Plan{
		Sizes:            sizes,
		Workers:          3,
		CreateActive:     Bound{N: 10, Budget: 5 * time.Second},
		CreateActiveFull: Bound{N: 5, Budget: 5 * time.Second},
		Floor:            Bound{N: 50, Budget: time.Second},
		List:             Bound{N: 10, Budget: time.Second},
		ListConc:         Bound{N: 10, Budget: time.Second},
		GetOne:           Bound{N: 20, Budget: time.Second},
		MassPost:         10 * time.Second,
		MassActive:       10 * time.Second,
	}
}

func TestCreateToActive(t *testing.T) {
	tests := []struct {
		name        string
		activeAfter time.Duration
		failEvery   int
		wantErr     string
	}{
		{"becomes active", 20 * time.Millisecond, 0, ""},
		{"goes to error", 5 * time.Millisecond, 1, "ERROR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t, tc.activeAfter, tc.failEvery)
			d, err := CreateToActive(c, "t")(context.Background(), 0)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Never before it turned ACTIVE; within a few polls after.
			if d < tc.activeAfter || d > tc.activeAfter+200*time.Millisecond {
				t.Fatalf("latency %s, want just over %s", d, tc.activeAfter)
			}
		})
	}
}

func TestCreateMany(t *testing.T) {
	tests := []struct {
		name          string
		failEvery     int
		wantAllActive bool
		wantErrored   int
	}{
		{"all active", 0, true, 0},
		{"some fail", 10, false, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, 30*time.Millisecond, tc.failEvery)
			mc := CreateMany(context.Background(), c, 4, 40, 0, 5*time.Second, time.Second, "m")
			if mc.Accepted != 40 || f.posts != 40 || mc.TotalLBs != 40 {
				t.Fatalf("accepted %d, posted %d, total %d, want 40", mc.Accepted, f.posts, mc.TotalLBs)
			}
			if mc.AllActive != tc.wantAllActive || mc.Errored != tc.wantErrored {
				t.Fatalf("all active %v errored %d, want %v %d (%s)", mc.AllActive, mc.Errored, tc.wantAllActive, tc.wantErrored, mc.ActiveWaitNote)
			}
			if tc.wantAllActive && (mc.AllActiveSec < 0.03 || mc.ActivePerSec <= 0) {
				t.Fatalf("all ACTIVE after %v s (%v/s): before the fake could have finished", mc.AllActiveSec, mc.ActivePerSec)
			}
		})
	}
}

func TestRunAPIAgainstFake(t *testing.T) {
	_, c := newFake(t, 2*time.Millisecond, 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	phases, problems := RunAPI(context.Background(), c, quickPlan(30, 1200), log)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if len(phases) != 3 {
		t.Fatalf("%d phases, want empty + 2 sizes", len(phases))
	}
	if phases[0].CreateActive == nil || phases[0].CreateActive.N != 10 {
		t.Fatalf("create→ACTIVE on the empty store: %+v", phases[0].CreateActive)
	}
	wantPage := map[int]map[string]int{
		30:   {"limit=1000": 30, "default page": 30, "limit=100": 30},
		1200: {"limit=1000": 1000, "default page": 1000, "limit=100": 100},
	}
	for _, ph := range phases[1:] {
		if ph.LBs != ph.Target {
			t.Fatalf("phase has %d LBs, want %d", ph.LBs, ph.Target)
		}
		if ph.FloorSeq.N == 0 || ph.FloorConc.N == 0 {
			t.Fatalf("floor not measured at %d", ph.LBs)
		}
		if len(ph.Lists) != 3 {
			t.Fatalf("%d list variants at %d, want 3", len(ph.Lists), ph.LBs)
		}
		for _, l := range ph.Lists {
			if l.PageItems != wantPage[ph.LBs][l.Variant] || l.Seq.N == 0 {
				t.Fatalf("list %s at %d: %d items, %d samples", l.Variant, ph.LBs, l.PageItems, l.Seq.N)
			}
		}
		if ph.Create == nil || !ph.Create.AllActive {
			t.Fatalf("filling to %d: %+v", ph.LBs, ph.Create)
		}
	}
	last := phases[2]
	if last.CreateActive == nil || last.GetOneConc == nil || last.GetOneConc.N == 0 {
		t.Fatal("the largest phase must measure create→ACTIVE and GET one again")
	}

	var out bytes.Buffer
	if err := WriteReport(&out, Result{Phases: phases, Workers: 3, Reference: octaviaRef(),
		EventStore: EventStore{Error: "not run in this test"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POST LB → ACTIVE seq", "list limit=1000 (1,000 per page) seq", "1,200",
		"p99 < 20 ms", "(aim is at 10,000)", "MEASURED ELSEWHERE", "1060 ms", "not run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunEndToEnd drives main's flow against the fake with -url, as
// `make bench` does against the real binary (with a smaller plan), and
// checks the table it prints and the JSON it writes.
func TestRunEndToEnd(t *testing.T) {
	f, c := newFake(t, time.Millisecond, 0)
	dir := t.TempDir()
	o, err := parseFlags([]string{"-url", c.base, "-out", dir, "-lbs", "60", "-workers", "2", "-skip-gobench", "-skip-postgres"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), o, quickPlan(o.lbs), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Phases) != 2 || r.Phases[1].LBs != 60 || r.Phases[1].Create == nil || f.posts < 60 {
		t.Fatalf("phases %+v, posts %d", r.Phases, f.posts)
	}
	t.Log("\n" + stdout.String()) // the table, for go test -v
	for _, want := range []string{"POST LB → ACTIVE seq", "not run (-skip-gobench)", "not run: -skip-postgres", "JSON: "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	if table, err := os.ReadFile(filepath.Join(dir, "latest.txt")); err != nil || !strings.Contains(stdout.String(), string(table)) {
		t.Errorf("latest.txt is not the printed table (%v)", err)
	}
}

func TestParseFlagsRefusesRemoteTargets(t *testing.T) {
	for _, args := range [][]string{{"-url", "http://10.1.2.3:9876"}, {"-lbs", "0"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%v) accepted", args)
		}
	}
}
