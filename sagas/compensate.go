package sagas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// compensate undoes what a failed operation left behind and records the
// failure, so the load balancer never stays in PENDING_* (table in doc.go).
// A cleanup call that fails too is logged and named in the recorded reason;
// what it could not undo stays recorded (a later delete retries it).
func (p *Provisioner) compensate(ctx context.Context, s loadbalancer.State, step Step, failed *stepFailure, md events.Metadata, log *slog.Logger) (loadbalancer.State, error) {
	reason := failed.Error()
	if s.Operation == OpUpdate {
		return p.record(ctx, s, loadbalancer.RecordConfigurationFailed{StreamVersion: s.Version, Reason: reason}, md)
	}
	var notes []string
	if s.Operation == OpCreate || s.Operation == OpFailover {
		for _, id := range slices.Sorted(maps.Keys(s.Amphorae)) {
			if s.Operation == OpFailover && slices.Contains(s.FailoverOld, id) {
				continue // a failover reverts only the amphorae it booted
			}
			amp := s.Amphorae[id]
			err := p.try(ctx, "compute.delete_amphora", func(ctx context.Context) error {
				return p.d.Compute.DeleteAmphora(ctx, amp.ComputeID)
			})
			if ctx.Err() != nil {
				return s, ctx.Err()
			}
			if err != nil {
				log.ErrorContext(ctx, "compensation: amphora delete failed", "amphora_id", id, "error", err)
				notes = append(notes, err.Error())
				continue
			}
			var rerr error
			if s, rerr = p.record(ctx, s, loadbalancer.RecordAmphoraDeleted{AmphoraID: id, Reason: "reverted: " + reason}, md); rerr != nil {
				return s, rerr
			}
		}
	}
	if s.Operation == OpCreate && s.VipAllocated {
		next, err := p.releaseVIP(ctx, s, md)
		var failedRelease *stepFailure
		switch {
		case ctx.Err() != nil:
			return s, ctx.Err()
		case err == nil:
			s = next
		case errors.As(err, &failedRelease):
			log.ErrorContext(ctx, "compensation: VIP release failed", "error", err)
			notes = append(notes, err.Error())
		default:
			return s, err
		}
	}
	if len(notes) > 0 {
		reason = fmt.Sprintf("%s (cleanup failed: %s)", reason, strings.Join(notes, "; "))
	}
	return p.record(ctx, s, loadbalancer.FailProvisioning{Step: string(step.Kind), Reason: reason}, md)
}
