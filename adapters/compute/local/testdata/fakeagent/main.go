// Command fakeagent stands in for `octavia-es amphora-agent` in the local
// compute driver's tests: it reads agent.yaml, serves GET /1.0/info over
// mutual TLS on the configured address, and starts a child in its process
// group standing for HAProxy. FAKEAGENT_MODE changes its behaviour:
// "exit" fails at once, "hang" never listens, "ignore-term" ignores SIGTERM.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// config mirrors the agent.yaml keys the driver writes.
type config struct {
	AmphoraID string `yaml:"amphora_id"`
	Listen    string `yaml:"listen"`
	BaseDir   string `yaml:"base_dir"`
	TLS       struct {
		CertFile     string `yaml:"cert_file"`
		KeyFile      string `yaml:"key_file"`
		ClientCAFile string `yaml:"client_ca_file"`
	} `yaml:"tls"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		time.Sleep(time.Hour) // stands for HAProxy; args name the amphora's directory
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "amphora-agent" {
		fail(errors.New("usage: fakeagent amphora-agent --config <file>"))
	}
	fs := flag.NewFlagSet("amphora-agent", flag.ExitOnError)
	path := fs.String("config", "", "agent.yaml")
	_ = fs.Parse(os.Args[2:])
	raw, err := os.ReadFile(*path)
	if err != nil {
		fail(err)
	}
	var cfg config
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		fail(err)
	}
	mode := os.Getenv("FAKEAGENT_MODE")
	switch mode {
	case "exit":
		fail(errors.New("haproxy not found (fake)"))
	case "hang":
		time.Sleep(time.Hour)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	}
	if err := serve(cfg, mode != "ignore-term"); err != nil {
		fail(err)
	}
}

func serve(cfg config, onTerm bool) error {
	cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(cfg.TLS.ClientCAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return errors.New("no CA certificate")
	}
	child := exec.Command(os.Args[0], "child", cfg.BaseDir)
	if err := child.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.BaseDir, "child.pid"), []byte(strconv.Itoa(child.Process.Pid)), 0o600); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /1.0/info", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"api_version": "1.0", "amphora_id": cfg.AmphoraID})
	})
	srv := &http.Server{
		Addr:      cfg.Listen,
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert},
	}
	ctx := context.Background()
	if onTerm {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM)
		defer stop()
	}
	go func() {
		<-ctx.Done()
		_ = child.Process.Kill()
		_ = srv.Shutdown(context.Background())
	}()
	fmt.Println("fake agent listening on", cfg.Listen)
	if err := srv.ListenAndServeTLS("", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fake agent:", err)
	os.Exit(3)
}
