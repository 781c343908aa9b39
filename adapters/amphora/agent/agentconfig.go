package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

// ConfigUpdate is the body of PUT /1.0/config (YAML, or JSON): the part of
// agent.yaml the controller owns. Octavia's controller sends the whole
// amphora-agent.conf it renders; here the rest of agent.yaml (identity,
// address, paths, certificates) belongs to whoever booted the amphora and
// cannot change while it runs, so only these keys are accepted.
type ConfigUpdate struct {
	// AmphoraID, when given, must be this amphora's (the controller pushes
	// to an address: make sure it reached the amphora it means).
	AmphoraID string `yaml:"amphora_id,omitempty"`
	// Heartbeat replaces the whole heartbeat section.
	Heartbeat *HeartbeatConfig `yaml:"heartbeat,omitempty"`
}

// maxConfigUpdate bounds a PUT /1.0/config body.
const maxConfigUpdate = 64 << 10

// errConfigNotPersisted: the agent does not know its configuration file,
// so it could not keep a change for its next start.
var errConfigNotPersisted = errors.New("the agent runs without a configuration file (Config.File): a change would be lost at its next start")

// badUpdateError: the update is invalid (400); nothing was changed.
type badUpdateError struct{ msg string }

func (e *badUpdateError) Error() string { return e.msg }

func badUpdate(format string, args ...any) error {
	return &badUpdateError{msg: fmt.Sprintf(format, args...)}
}

// liveConfig is the agent's configuration as its file holds it, and what
// applies changes to it while the agent runs (the heartbeat sender).
type liveConfig struct {
	mu     sync.Mutex
	file   Config // as read from the file (without defaults); File is its path
	listen string // the address served (file.Listen may be empty: Serve's listener)
	sender *heartbeat.Sender
}

// update validates body, writes the new agent.yaml atomically, then
// applies the heartbeat settings to the running sender (HAProxy is not
// touched). Invalid → *badUpdateError, nothing changed; the file cannot
// be written → error, nothing applied.
func (c *liveConfig) update(body []byte) error {
	upd, err := parseConfigUpdate(body)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if upd.AmphoraID != "" && upd.AmphoraID != c.file.AmphoraID {
		return badUpdate("this is amphora %s, not %s", c.file.AmphoraID, upd.AmphoraID)
	}
	next := c.file
	if upd.Heartbeat != nil {
		next.Heartbeat = *upd.Heartbeat
		next.Heartbeat.Targets = slices.Clone(upd.Heartbeat.Targets)
	}
	run := next.withDefaults()
	run.Listen = c.listen
	if err := run.Validate(); err != nil {
		return badUpdate("%v", err)
	}
	sc := senderConfig(run)
	if err := heartbeat.CheckSenderConfig(sc); err != nil {
		return badUpdate("%v", err)
	}
	if c.file.File == "" {
		return errConfigNotPersisted
	}
	raw, err := yaml.Marshal(next)
	if err != nil {
		return fmt.Errorf("encode agent configuration: %w", err)
	}
	if err := writeFileAtomic(c.file.File, raw, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(c.file.File), err)
	}
	c.file = next
	// Checked above: Update can only fail on a target that stopped
	// resolving in between.
	if err := c.sender.Update(sc); err != nil {
		return fmt.Errorf("written, not applied: %w", err)
	}
	return nil
}

func senderConfig(c Config) heartbeat.SenderConfig {
	return heartbeat.SenderConfig{
		AmphoraID: c.AmphoraID, Targets: slices.Clone(c.Heartbeat.Targets),
		Interval: c.Heartbeat.Interval, Key: []byte(c.Heartbeat.Key),
	}
}

// fixedKeys are agent.yaml's keys that only a new amphora changes.
var fixedKeys = []string{"listen", "base_dir", "tls", "haproxy_binary"}

// parseConfigUpdate reads a ConfigUpdate strictly: an unknown key, or one
// that cannot change on a running amphora, is refused by name.
func parseConfigUpdate(body []byte) (ConfigUpdate, error) {
	var keys map[string]any
	if err := yaml.Unmarshal(body, &keys); err != nil {
		return ConfigUpdate{}, badUpdate("not a YAML or JSON mapping: %v", err)
	}
	if len(keys) == 0 {
		return ConfigUpdate{}, badUpdate("empty configuration: give heartbeat (targets, interval, key)")
	}
	var fixed []string
	for k := range keys {
		if slices.Contains(fixedKeys, k) {
			fixed = append(fixed, k)
		}
	}
	if len(fixed) > 0 {
		slices.Sort(fixed)
		return ConfigUpdate{}, badUpdate("%s cannot change on a running amphora (only heartbeat can; fail the amphora over for the rest)",
			strings.Join(fixed, ", "))
	}
	var upd ConfigUpdate
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&upd); err != nil && !errors.Is(err, io.EOF) {
		return ConfigUpdate{}, badUpdate("%v", err)
	}
	return upd, nil
}

func (c *liveConfig) heartbeatTargets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.file.Heartbeat.Targets)
}
