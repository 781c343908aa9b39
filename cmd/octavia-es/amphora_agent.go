package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
)

// amphoraAgentCommand runs `octavia-es amphora-agent --config FILE`: the
// process inside an amphora (started by the local compute driver), logging
// to stderr, until SIGINT/SIGTERM; it stops its HAProxy processes before
// exiting.
func amphoraAgentCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("amphora-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "agent configuration (YAML), as the local compute driver writes it")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *configPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: octavia-es amphora-agent --config FILE [--log-level LEVEL] [--log-format text|json]")
		return 2
	}
	cfg, err := loadAgentConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "octavia-es amphora-agent: %v\n", err)
		return 2
	}
	log := newLogger(LogConfig{Level: *logLevel, Format: *logFormat}, stderr).With("amphora_id", cfg.AmphoraID)
	if err := agent.Run(ctx, cfg, log); err != nil {
		log.Error("amphora agent stopped", "err", err)
		return 1
	}
	return 0
}

// loadAgentConfig reads the YAML file strictly: an unknown key is an error.
func loadAgentConfig(path string) (agent.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return agent.Config{}, err
	}
	var cfg agent.Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return agent.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return agent.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	// PUT /1.0/config rewrites the file: name it whatever the agent's
	// working directory.
	if cfg.File, err = filepath.Abs(path); err != nil {
		return agent.Config{}, err
	}
	return cfg, nil
}
