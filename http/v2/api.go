// Package v2 serves Octavia's v2 load-balancing API (/v2/lbaas/...): it
// decodes and validates requests as Octavia (wsme) does, turns writes into
// commands for the load balancer aggregate, and answers reads from the read
// model after it has caught up with the latest write. It also answers the
// read-only Neutron subnet look-ups the openstack CLI makes.
package v2

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

// Commands executes commands on load balancer graphs
// (commands/loadbalancer.Executor).
type Commands interface {
	Execute(ctx context.Context, loadBalancerID string, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.Result, error)
	Load(ctx context.Context, loadBalancerID string) (loadbalancer.State, error)
}

// ReadModel answers GETs (projections.ReadModel). Lists come back as the
// stored JSON documents: decoding 1000 views to re-encode them cost 5x the
// query. Get* return
// projections.ErrNotFound for objects that are not visible; List* return
// errors wrapping projections.ErrInvalidQuery, whose text is Octavia's
// faultstring, for filters, sort keys and markers they cannot serve.
type ReadModel interface {
	GetLoadBalancer(ctx context.Context, id string) (projections.LoadBalancerView, error)
	ListLoadBalancersRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error)
	GetListener(ctx context.Context, id string) (projections.ListenerView, error)
	ListListenersRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error)
	GetPool(ctx context.Context, id string) (projections.PoolView, error)
	ListPoolsRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error)
	GetMember(ctx context.Context, poolID, memberID string) (projections.MemberView, error)
	ListMembersRaw(ctx context.Context, poolID string, o projections.ListOptions) (projections.Page[json.RawMessage], error)
	GetHealthMonitor(ctx context.Context, id string) (projections.HealthMonitorView, error)
	ListHealthMonitorsRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error)
	StatusTree(ctx context.Context, loadBalancerID string) (projections.StatusTree, error)
	LoadBalancerStats(ctx context.Context, loadBalancerID string) (projections.Stats, error)
	ListenerStats(ctx context.Context, listenerID string) (projections.Stats, error)
	ListAmphoraeRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error)
	GetAmphora(ctx context.Context, id string) (projections.AmphoraView, error)
	AmphoraStats(ctx context.Context, id string) ([]projections.AmphoraStatsView, error)
	// WaitFor returns once the read model reflects the event at position.
	WaitFor(ctx context.Context, position int64) error
}

// EventLog is the event store's head (eventstore.Store.Head).
type EventLog interface {
	Head(ctx context.Context) (int64, error)
}

// Subnet is a subnet as the API needs it: to validate vip_subnet_id and
// member subnet_id, and to answer Neutron's subnet look-ups.
type Subnet struct {
	ID        string
	Name      string
	NetworkID string
	CIDR      string
	GatewayIP string // "" = none
	IPVersion int
	ProjectID string
}

// Subnets is the network driver's subnet catalogue.
type Subnets interface {
	// GetSubnet returns the subnet with id; found is false when there is
	// none (not an error).
	GetSubnet(ctx context.Context, id string) (s Subnet, found bool, err error)
	ListSubnets(ctx context.Context) ([]Subnet, error)
}

// Config is this layer's configuration.
type Config struct {
	// PaginationMaxLimit is Octavia's [api_settings] pagination_max_limit:
	// the default and largest page size.
	PaginationMaxLimit int
	// ReadYourWritesTimeout bounds how long a GET waits for the read model
	// to reach the event store's head before answering 503.
	ReadYourWritesTimeout time.Duration
	// EnabledProviders are the accepted provider names; the first is the
	// default (Octavia: amphora, and octavia its alias).
	EnabledProviders []string
	// APIBaseURI, when set, replaces the request's scheme and host in
	// pagination links (Octavia's [api_settings] api_base_uri).
	APIBaseURI string
	// Events tunes the event history endpoints (events.go).
	Events EventsConfig
	// Capabilities narrow the providers to what the amphora driver in use
	// serves; zero: what Octavia's amphora provider accepts.
	Capabilities ProviderCapabilities
}

func (c *Config) setDefaults() {
	if c.PaginationMaxLimit <= 0 {
		c.PaginationMaxLimit = 1000
	}
	if c.ReadYourWritesTimeout <= 0 {
		c.ReadYourWritesTimeout = 5 * time.Second
	}
	if len(c.EnabledProviders) == 0 {
		c.EnabledProviders = []string{"amphora", "octavia"}
	}
}

// Deps are the collaborators of the API.
type Deps struct {
	Commands  Commands
	ReadModel ReadModel
	Events    EventLog
	Subnets   Subnets
	// VIPs allocates a load balancer's VIP inside its POST, as Octavia does.
	// Optional: without it the create saga allocates the VIP after the
	// POST, whose answer then shows vip_address null.
	VIPs   VIPs
	Logger *slog.Logger // nil: slog.Default()
	// NewID returns a fresh object id; nil: random UUIDs (version 4).
	NewID func() string
	// History is the event store the event history endpoints read; nil:
	// Events when it is one (the stores are), else those endpoints answer
	// 404.
	History EventStore
	// Registry decodes events for the history endpoints (upcasters
	// included); nil: events.NewRegistry().
	Registry *events.Registry
	// Shutdown, closed when the server stops, ends the event streams
	// (their clients resume elsewhere with Last-Event-ID); otherwise they
	// would hold the server's graceful shutdown until its deadline.
	Shutdown <-chan struct{}
}

// API is the v2 handler set; mount it with Routes.
type API struct {
	cfg       Config
	commands  Commands
	read      ReadModel
	events    EventLog
	subnets   Subnets
	vips      VIPs
	log       *slog.Logger
	newID     func() string
	providers providers
	history   *eventHistory // nil: no event store to read
}

// New checks deps and returns the API.
func New(cfg Config, deps Deps) (*API, error) {
	var errs []error
	if deps.Commands == nil {
		errs = append(errs, errors.New("v2: Commands is required"))
	}
	if deps.ReadModel == nil {
		errs = append(errs, errors.New("v2: ReadModel is required"))
	}
	if deps.Events == nil {
		errs = append(errs, errors.New("v2: Events is required"))
	}
	if deps.Subnets == nil {
		errs = append(errs, errors.New("v2: Subnets is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	a := &API{
		cfg: cfg, commands: deps.Commands, read: deps.ReadModel, events: deps.Events,
		subnets: deps.Subnets, vips: deps.VIPs, log: deps.Logger, newID: deps.NewID,
		providers: newProviders(cfg.EnabledProviders, cfg.Capabilities),
		history:   newEventHistory(cfg.Events, deps),
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.newID == nil {
		a.newID = newUUID
	}
	return a, nil
}
