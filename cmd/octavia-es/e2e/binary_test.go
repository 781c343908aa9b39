package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// execBinary runs octavia-es with args to completion (bounded) and returns
// its combined output.
func execBinary(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = serverOptions{}.environ()
	return cmd.CombinedOutput()
}

// TestVersionCommand: `octavia-es version` prints the version and exits 0.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	out, err := execBinary(t, "version")
	if err != nil {
		t.Fatalf("octavia-es version: %v\n%s", err, out)
	}
	if v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "octavia-es "); !ok || v == "" {
		t.Errorf("octavia-es version printed %q, want \"octavia-es <version>\"", out)
	}
}

// TestServeRefusesBadConfig: a misspelt key stops serve before it listens.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(cfg, []byte("api:\n  lisen: 127.0.0.1:9876\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := execBinary(t, "serve", "--config", cfg, "--data-dir", t.TempDir())
	if exitCode(err) <= 0 {
		t.Fatalf("serve with a misspelt key: exit %v, want a failure status; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "lisen") {
		t.Errorf("serve with a misspelt key: output does not name it:\n%s", out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("serve took %s to refuse its config", d)
	}
}
