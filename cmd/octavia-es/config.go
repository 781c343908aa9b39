package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of the binary. etc/octavia-es.yaml is
// its documented default; see docs/configuration.md.
type Config struct {
	API     APIConfig     `yaml:"api"`
	DataDir string        `yaml:"data_dir"`
	Drivers DriversConfig `yaml:"drivers"`
	Noop    NoopConfig    `yaml:"noop"`
	Network NetworkConfig `yaml:"network"`
	Sagas   SagasConfig   `yaml:"sagas"`
	// Amphora configures the local compute driver's amphorae.
	Amphora       AmphoraConfig       `yaml:"amphora"`
	Certificates  CertificatesConfig  `yaml:"certificates"`
	HealthManager HealthManagerConfig `yaml:"health_manager"`
	Housekeeping  HousekeepingConfig  `yaml:"housekeeping"`
	Metrics       MetricsConfig       `yaml:"metrics"`
	Log           LogConfig           `yaml:"log"`
	// Store, Bus and Forwarder: the scaled deployment (docs/deploy.md).
	Store     StoreConfig     `yaml:"store"`
	ReadModel ReadModelConfig `yaml:"read_model"`
	Bus       BusConfig       `yaml:"bus"`
	Forwarder ForwarderConfig `yaml:"forwarder"`
}

// MetricsConfig: where a process serves /metrics and /healthcheck besides
// the API's port (the API serves both on api.listen).
type MetricsConfig struct {
	// Listen: host:port; "" = not served (the worker, health-manager and
	// housekeeping processes then expose nothing).
	Listen string `yaml:"listen"`
}

// AmphoraConfig: local amphorae (agent processes running HAProxy).
type AmphoraConfig struct {
	// BaseDir holds one working directory per amphora ("" = <data_dir>/amphorae).
	BaseDir       string        `yaml:"base_dir"`
	HAProxyBinary string        `yaml:"haproxy_binary"`
	BootTimeout   time.Duration `yaml:"boot_timeout"`
}

// CertificatesConfig is Octavia's [certificates] for the local
// certificate manager (certificates/files): the directory TLS container
// references (file:// URLs) must point into.
type CertificatesConfig struct {
	// StoragePath: "" = <data_dir>/certificates.
	StoragePath string `yaml:"storage_path"`
}

// HealthManagerConfig is Octavia's [health_manager].
type HealthManagerConfig struct {
	// Listen: UDP address heartbeats are sent to (Octavia's bind_ip:bind_port).
	Listen            string        `yaml:"listen"`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	HeartbeatTimeout  time.Duration `yaml:"heartbeat_timeout"`
	// HeartbeatKey signs heartbeats (HMAC); "" = a random key kept in <data_dir>/heartbeat.key.
	HeartbeatKey        string        `yaml:"heartbeat_key"`
	HealthCheckInterval time.Duration `yaml:"health_check_interval"`
	FailoverThreshold   int           `yaml:"failover_threshold"`
}

type APIConfig struct {
	Listen                string        `yaml:"listen"`
	PaginationMaxLimit    int           `yaml:"pagination_max_limit"`
	ReadYourWritesTimeout time.Duration `yaml:"read_your_writes_timeout"`
	EnabledProviders      []string      `yaml:"enabled_providers"`
	NoauthDefaultProject  string        `yaml:"noauth_default_project"`
	// Octavia's [api_settings] healthcheck_enabled (Octavia defaults to
	// off; we default to on: the scaled deployment's balancer needs it) and
	// healthcheck_refresh_interval; HealthcheckDetailed is oslo's
	// [healthcheck] detailed.
	HealthcheckEnabled         bool          `yaml:"healthcheck_enabled"`
	HealthcheckRefreshInterval time.Duration `yaml:"healthcheck_refresh_interval"`
	HealthcheckDetailed        bool          `yaml:"healthcheck_detailed"`
}

type DriversConfig struct {
	Compute string `yaml:"compute"`
	Network string `yaml:"network"`
	Amphora string `yaml:"amphora"`
}

type NoopConfig struct {
	Delay time.Duration `yaml:"delay"`
	Fail  []string      `yaml:"fail"`
}

type NetworkConfig struct {
	Subnets []SubnetConfig `yaml:"subnets"`
}

type SubnetConfig struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	NetworkID string `yaml:"network_id"`
	CIDR      string `yaml:"cidr"`
	// GatewayIP is never allocated as a VIP (Neutron's gateway_ip; "" = none).
	GatewayIP string `yaml:"gateway_ip"`
	ProjectID string `yaml:"project_id"`
}

type SagasConfig struct {
	StepAttempts int           `yaml:"step_attempts"`
	StepBackoff  time.Duration `yaml:"step_backoff"`
}

type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// defaultConfig mirrors etc/octavia-es.yaml, so the binary runs without a file.
func defaultConfig() Config {
	return Config{
		API: APIConfig{
			Listen:                "127.0.0.1:9876",
			PaginationMaxLimit:    1000,
			ReadYourWritesTimeout: 5 * time.Second,
			EnabledProviders:      []string{"amphora", "octavia"},
			NoauthDefaultProject:  "default",
			HealthcheckEnabled:    true, HealthcheckRefreshInterval: 5 * time.Second,
		},
		DataDir: "./data",
		Drivers: DriversConfig{Compute: "local", Network: "local", Amphora: "rest"},
		Network: NetworkConfig{Subnets: []SubnetConfig{{
			ID:        "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d",
			Name:      "octavia-es-vip",
			NetworkID: "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e",
			CIDR:      "127.100.0.0/16",
			GatewayIP: "127.100.0.1",
		}}},
		Sagas:   SagasConfig{StepAttempts: 3, StepBackoff: 100 * time.Millisecond},
		Amphora: AmphoraConfig{HAProxyBinary: "haproxy", BootTimeout: 10 * time.Second},
		HealthManager: HealthManagerConfig{
			Listen: "127.0.0.1:5555", HeartbeatInterval: time.Second, HeartbeatTimeout: 3 * time.Second,
			HealthCheckInterval: 500 * time.Millisecond,
		},
		Log:       LogConfig{Level: "info", Format: "text"},
		Store:     defaultStoreConfig(),
		ReadModel: ReadModelConfig{Driver: readModelAuto},
		Bus:       defaultBusConfig(),
		Forwarder: ForwarderConfig{Lease: leaseAuto},
	}
}

// loadConfig reads path (if not empty) over the defaults, then applies
// OCTAVIA_ES_* environment variables from env, then validates.
func loadConfig(path string, env []string) (Config, error) {
	cfg := defaultConfig()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true) // a misspelt key is an error, not a silent default
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate joins every problem of the configuration into one error.
func (c Config) Validate() error {
	var errs []error
	if _, err := netip.ParseAddrPort(c.API.Listen); err != nil {
		errs = append(errs, fmt.Errorf("api.listen %q: want host:port with an IP address", c.API.Listen))
	}
	if c.API.PaginationMaxLimit < 1 {
		errs = append(errs, errors.New("api.pagination_max_limit must be at least 1"))
	}
	if c.API.ReadYourWritesTimeout <= 0 {
		errs = append(errs, errors.New("api.read_your_writes_timeout must be positive"))
	}
	if len(c.API.EnabledProviders) == 0 {
		errs = append(errs, errors.New("api.enabled_providers must name at least one provider"))
	}
	if c.API.HealthcheckRefreshInterval < 0 {
		errs = append(errs, errors.New("api.healthcheck_refresh_interval must not be negative"))
	}
	errs = append(errs, c.Housekeeping.validate()...)
	if c.Metrics.Listen != "" {
		if _, err := netip.ParseAddrPort(c.Metrics.Listen); err != nil {
			errs = append(errs, fmt.Errorf("metrics.listen %q: want host:port with an IP address, or empty", c.Metrics.Listen))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir must be set"))
	}
	errs = append(errs, c.Drivers.validate()...)
	if c.Drivers.Compute == "local" {
		if _, err := netip.ParseAddrPort(c.HealthManager.Listen); err != nil {
			errs = append(errs, fmt.Errorf("health_manager.listen %q: want host:port with an IP address", c.HealthManager.Listen))
		}
		if c.HealthManager.HeartbeatInterval <= 0 || c.HealthManager.HeartbeatTimeout <= c.HealthManager.HeartbeatInterval {
			errs = append(errs, errors.New("health_manager: heartbeat_timeout must be longer than heartbeat_interval (> 0)"))
		}
	}
	for i, s := range c.Network.Subnets {
		prefix, err := netip.ParsePrefix(s.CIDR)
		if err != nil {
			errs = append(errs, fmt.Errorf("network.subnets[%d].cidr %q: %w", i, s.CIDR, err))
		}
		if s.GatewayIP != "" {
			if gw, gerr := netip.ParseAddr(s.GatewayIP); gerr != nil || (err == nil && !prefix.Contains(gw)) {
				errs = append(errs, fmt.Errorf("network.subnets[%d].gateway_ip %q: want an address inside cidr %s", i, s.GatewayIP, s.CIDR))
			}
		}
		if s.ID == "" {
			errs = append(errs, fmt.Errorf("network.subnets[%d].id must be set", i))
		}
	}
	if c.Sagas.StepAttempts < 1 {
		errs = append(errs, errors.New("sagas.step_attempts must be at least 1"))
	}
	errs = append(errs, c.validateScale()...)
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format %q: want text or json", c.Log.Format))
	}
	return errors.Join(errs...)
}

// applyEnv sets fields from OCTAVIA_ES_<SECTION>_<KEY> (or OCTAVIA_ES_<KEY>
// for top-level keys), named after the yaml tags. Lists are comma separated.
func applyEnv(cfg *Config, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OCTAVIA_ES_") {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), "OCTAVIA_ES", func(name string, f reflect.Value) {
		v, ok := vars[name]
		if !ok {
			return
		}
		if err := setFromString(f, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

func walkFields(v reflect.Value, prefix string, visit func(string, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Duration(0)) {
			walkFields(f, name, visit)
			continue
		}
		visit(name, f)
	}
}

func setFromString(f reflect.Value, s string) error {
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// validate accepts the two working combinations: everything noop (Octavia's
// noop drivers), or local amphorae (compute local + amphora rest, network
// local or noop).
func (d DriversConfig) validate() []error {
	var errs []error
	check := func(what, name string, allowed ...string) {
		for _, a := range allowed {
			if name == a {
				return
			}
		}
		errs = append(errs, fmt.Errorf("drivers.%s %q: want one of %s", what, name, strings.Join(allowed, ", ")))
	}
	check("compute", d.Compute, "local", "noop")
	check("network", d.Network, "local", "noop")
	check("amphora", d.Amphora, "rest", "noop")
	if (d.Compute == "local") != (d.Amphora == "rest") {
		errs = append(errs, fmt.Errorf("drivers: compute %q needs amphora %q (local amphorae are driven through their agent's REST API)",
			d.Compute, map[bool]string{true: "rest", false: "noop"}[d.Compute == "local"]))
	}
	return errs
}
