// Command octavia-es is the one binary of octavia-es: `serve` runs the API,
// the projector, the forwarder and the sagas in one process (the embedded
// default); `version` prints the build.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

const usage = `usage: octavia-es <command> [flags]

commands:
  serve           run the Octavia v2 API with its workers (embedded default)
  api             run the Octavia v2 API only (with its read model), see docs/deploy.md
  worker          run the forwarder, the bus and the sagas only
  health-manager  run the health manager only (heartbeats, failovers)
  housekeeping    run the housekeeping only (amphora agent certificate rotation)
  migrate         create or upgrade the event store's schema (SQLite, or PostgreSQL with --postgres-dsn)
  amphora-agent   run an amphora's agent (HAProxy, heartbeats): --config agent.yaml
  events          event history: tail (follow the API's stream), show, export, verify (local store)
  replay          rebuild the read models from the event store, switching to them atomically
  version         print the version
`

func run(ctx context.Context, args, env []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve", "api", "worker", "health-manager", "housekeeping":
		return serveCommand(ctx, processes[args[0]], args[1:], env, stderr)
	case "migrate":
		return migrateCommand(ctx, args[1:], env, stdout, stderr)
	case "amphora-agent":
		return amphoraAgentCommand(ctx, args[1:], stderr)
	case "events":
		return eventsCommand(ctx, args[1:], env, stdout, stderr)
	case "replay":
		return replayCommand(ctx, args[1:], env, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "octavia-es", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "octavia-es: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
