package main

import "path/filepath"

// role is a part of octavia-es a process runs.
type role uint8

const (
	// roleAPI: the Octavia v2 API (HTTP), with its read model.
	roleAPI role = 1 << iota
	// roleWorker: the forwarder (event store → bus), the bus router and the
	// sagas, which drive the drivers and re-drive PENDING_* load balancers.
	roleWorker
	// roleHealth: the health manager (heartbeats in, failovers out).
	roleHealth
	// roleHousekeeping: the amphora agents' certificate rotation.
	roleHousekeeping
)

// process is what one octavia-es process runs.
type process struct {
	name  string // the command, and the metrics' process label
	roles role
	// readModel: the read model's file; "" = <data_dir>/readmodel.db for
	// serve, <data_dir>/readmodel-<name>.db otherwise.
	readModel string
}

// processes by command. serve runs every role in one process.
var processes = map[string]process{
	"serve":          {name: "serve", roles: roleAPI | roleWorker | roleHealth | roleHousekeeping},
	"api":            {name: "api", roles: roleAPI},
	"worker":         {name: "worker", roles: roleWorker},
	"health-manager": {name: "health-manager", roles: roleHealth},
	"housekeeping":   {name: "housekeeping", roles: roleHousekeeping},
}

func (p process) has(r role) bool { return p.roles&r != 0 }

// readModelPath: each process projects the shared event store into a read
// model of its own (the SQLite read model's checkpoint and read-your-writes
// wake-ups live in the projecting process), so separate processes never
// write one read model file.
func (p process) readModelPath(dataDir string) string {
	switch {
	case p.readModel != "":
		return p.readModel
	case p.name == "serve" || p.name == "":
		return filepath.Join(dataDir, "readmodel.db")
	}
	return filepath.Join(dataDir, "readmodel-"+p.name+".db")
}
