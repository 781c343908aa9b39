package haproxy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/amphora"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func renderCase(t *testing.T, c goldenCase) []byte {
	t.Helper()
	opts := goldenOptions()
	if c.opts != nil {
		opts = c.opts(opts)
	}
	out, err := Render(c.cfg(), opts)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out
}

func TestGolden(t *testing.T) {
	names := map[string]bool{}
	for _, c := range goldenCases() {
		if names[c.name] {
			t.Fatalf("duplicate case %s", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			got := renderCase(t, c)
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
	// No stale golden file: each one is a case (the haproxy -c test runs
	// them all).
	files, _ := filepath.Glob("testdata/*.golden")
	for _, f := range files {
		if name := filepath.Base(f); !names[name[:len(name)-len(".golden")]] {
			t.Errorf("%s has no case", f)
		}
	}
}

// Determinism: the order of the Config's slices and repeated renders do not
// change a byte, so an agent can skip a reload.
func TestRenderIsDeterministic(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			first := renderCase(t, c)
			shuffled := c
			shuffled.cfg = func() amphora.Config {
				cfg := c.cfg()
				slices.Reverse(cfg.Listeners)
				slices.Reverse(cfg.Pools)
				slices.Reverse(cfg.Members)
				slices.Reverse(cfg.HealthMonitors)
				for i := range cfg.Listeners {
					slices.Reverse(cfg.Listeners[i].AllowedCIDRs)
				}
				cfg.Version += 100 // a new stream version alone changes nothing
				return cfg
			}
			for range 3 {
				if again := renderCase(t, shuffled); !bytes.Equal(first, again) {
					t.Fatalf("render differs:\n%s\n---\n%s", first, again)
				}
			}
		})
	}
}
