package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/octavia-es/octavia-es/adapters/bus"
	buspg "github.com/octavia-es/octavia-es/adapters/bus/postgres"
	"github.com/octavia-es/octavia-es/projections"
)

// projectorLeaseName: every process of a deployment sharing a PostgreSQL
// read model competes for this lease (suffixed with the schema).
const projectorLeaseName = "projector"

// openReadModel opens the configured read model. A PostgreSQL one is shared:
// it comes with the lease its projectors compete for (one projects, the
// others follow its checkpoint); a SQLite one is this process's own file.
func openReadModel(ctx context.Context, cfg Config, proc process, log *slog.Logger) (*projections.ReadModel, bus.Lease, error) {
	if cfg.readModelKind() != readModelPostgres {
		rm, err := projections.Open(ctx, proc.readModelPath(cfg.DataDir))
		return rm, nil, err
	}
	dsn, schema := cfg.readModelPostgres()
	rm, err := projections.OpenPostgres(ctx, projections.PostgresConfig{
		DSN: dsn, Schema: schema, Log: log.With("component", "read-model"),
	})
	if err != nil {
		return nil, nil, err
	}
	return rm, buspg.NewLease(dsn, projectorLeaseName+"."+schema, log.With("component", "projector-lease")), nil
}

// runProjector projects into the read model: always for a SQLite file,
// while holding the lease for a shared one. (Were two to project at once
// while a lease changes hands, the checkpoint fencing of the projector
// keeps their writes from interleaving.)
func (a *app) runProjector(ctx context.Context) error {
	if a.projectorLease == nil {
		return a.projector.Run(ctx)
	}
	return bus.RunLeased(ctx, a.projectorLease, "projector", time.Second, a.log.With("component", "projector"), a.projector.Run)
}
