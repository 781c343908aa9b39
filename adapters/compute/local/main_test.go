package local

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Agent executables built once for the tests: fakeAgent always (testdata/
// fakeagent), realAgent when cmd/octavia-es has the amphora-agent
// subcommand and builds ("" otherwise).
var fakeAgent, realAgent string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "compute-local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	fakeAgent = filepath.Join(dir, "fakeagent")
	if out, err := goBuild(fakeAgent, "./testdata/fakeagent"); err != nil {
		fmt.Fprintf(os.Stderr, "build the fake agent: %v\n%s", err, out)
		return 1
	}
	if !testing.Short() && hasAgentSubcommand("../../../cmd/octavia-es") {
		bin := filepath.Join(dir, "octavia-es")
		if out, err := goBuild(bin, "../../../cmd/octavia-es"); err != nil {
			fmt.Fprintf(os.Stderr, "cmd/octavia-es does not build; the real agent test is skipped: %v\n%s", err, out)
		} else {
			realAgent = bin
		}
	}
	return m.Run()
}

func goBuild(out, pkg string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "go", "build", "-o", out, pkg).CombinedOutput()
}

// hasAgentSubcommand: the binary's sources name the amphora-agent command.
func hasAgentSubcommand(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if raw, err := os.ReadFile(f); err == nil && bytes.Contains(raw, []byte(`"amphora-agent"`)) {
			return true
		}
	}
	return false
}
