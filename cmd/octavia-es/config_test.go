package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestShippedConfigEqualsDefaults(t *testing.T) {
	// etc/octavia-es.yaml documents the defaults; they must not drift apart.
	cfg, err := loadConfig("../../etc/octavia-es.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, want := cfg, defaultConfig()
	if len(got.Noop.Fail) == 0 {
		got.Noop.Fail = nil // "fail: []" in the file, nil in the code
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("etc/octavia-es.yaml and defaultConfig differ:\n%+v\n%+v", got, want)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("api:\n  listen: 127.0.0.1:1111\nnoop:\n  delay: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path, []string{"OCTAVIA_ES_API_LISTEN=127.0.0.1:2222", "OCTAVIA_ES_NOOP_FAIL=compute.create_amphora, network.allocate_vip", "OCTAVIA_ES_DATA_DIR=/x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Listen != "127.0.0.1:2222" || cfg.Noop.Delay != time.Second || cfg.DataDir != "/x" {
		t.Fatalf("got %+v", cfg)
	}
	if strings.Join(cfg.Noop.Fail, "|") != "compute.create_amphora|network.allocate_vip" {
		t.Fatalf("fail list %q", cfg.Noop.Fail)
	}
}

func TestInvalidConfigIsRefusedWithEveryProblem(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	body := "api:\n  listen: nowhere\n  pagination_max_limit: 0\nlog:\n  format: xml\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(path, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"api.listen", "pagination_max_limit", "log.format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if err := os.WriteFile(path, []byte("api:\n  lisen: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(path, nil); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Fatalf("misspelt key: got %v", err)
	}
	if _, err := loadConfig("", []string{"OCTAVIA_ES_NOOP_DELAY=soon"}); err == nil {
		t.Fatal("bad duration from env accepted")
	}
}
