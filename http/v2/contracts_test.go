package v2_test

import (
	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
)

// The real collaborators satisfy the interfaces the API declares.
var (
	_ v2.ReadModel = (*projections.ReadModel)(nil)
	_ v2.Commands  = (*loadbalancer.Handler)(nil)
	_ v2.Commands  = loadbalancer.Executor(nil)
	_ v2.EventLog  = eventstore.Store(nil)
)
