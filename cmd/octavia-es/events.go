package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections/history"
)

const eventsUsage = `usage: octavia-es events <command> [flags]

commands:
  tail     follow the API's event stream, one JSON line per event (reconnects, resuming where it stopped)
           [--url URL] [--loadbalancer ID] [--project ID] [--type TYPE] [--from POSITION]
  show     print one event of the local store: POSITION or EVENT-ID [--data-dir DIR | --config FILE]
  export   print the local store's events as JSON lines [--from POSITION] [--to POSITION] [--raw]
  verify   check the local store (positions and stream versions contiguous, every payload decodes);
           exit status 1 when it finds problems, it changes nothing
`

// eventsCommand is `octavia-es events ...`. tail talks to a running
// server; show, export and verify read the data directory's event store
// directly (safe while the server runs).
func eventsCommand(ctx context.Context, args, env []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, eventsUsage)
		return 2
	}
	switch args[0] {
	case "tail":
		return eventsTail(ctx, args[1:], stdout, stderr)
	case "show", "export", "verify":
		return eventsLocal(ctx, args[0], args[1:], env, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, eventsUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "octavia-es events: unknown command %q\n\n%s", args[0], eventsUsage)
		return 2
	}
}

// eventsLocal runs show, export and verify on the local store.
func eventsLocal(ctx context.Context, cmd string, args, env []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file naming data_dir")
	dataDir := fs.String("data-dir", "", "data directory holding events.db (overrides the configuration)")
	var from, to *int64
	var raw, asJSON *bool
	switch cmd {
	case "export":
		from = fs.Int64("from", 1, "first position exported")
		to = fs.Int64("to", 0, "last position exported (0: the head)")
		raw = fs.Bool("raw", false, "the envelopes as stored (schema version and payload not upcast)")
	case "verify":
		asJSON = fs.Bool("json", false, "print the report as JSON")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (cmd == "show") != (fs.NArg() == 1) || (cmd != "show" && fs.NArg() > 0) {
		fmt.Fprint(stderr, eventsUsage)
		return 2
	}
	store, code := openLocalStore(ctx, *configPath, *dataDir, env, stderr)
	if store == nil {
		return code
	}
	defer store.Close()
	reg := events.NewRegistry()
	var err error
	switch cmd {
	case "show":
		err = showEvent(ctx, store, reg, fs.Arg(0), stdout)
	case "export":
		err = exportEvents(ctx, store, reg, *from, *to, *raw, stdout)
	case "verify":
		return verifyEvents(ctx, store, reg, *asJSON, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "octavia-es events %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// openLocalStore opens the data directory's event store, refusing to
// create one where there is none.
func openLocalStore(ctx context.Context, configPath, dataDir string, env []string, stderr io.Writer) (*sqlite.Store, int) {
	store, _, code := openDataDir(ctx, "octavia-es events", configPath, dataDir, env, stderr)
	return store, code
}

// openDataDir resolves the data directory (dataDir, else the
// configuration's) and opens its event store; cmd prefixes the messages.
func openDataDir(ctx context.Context, cmd, configPath, dataDir string, env []string, stderr io.Writer) (*sqlite.Store, string, int) {
	if dataDir == "" {
		cfg, err := loadConfig(configPath, env)
		if err != nil {
			fmt.Fprintf(stderr, "%s: invalid configuration:\n%v\n", cmd, err)
			return nil, "", 2
		}
		dataDir = cfg.DataDir
	}
	path := filepath.Join(dataDir, "events.db")
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "%s: no event store at %s: %v\n", cmd, path, err)
		return nil, "", 2
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, "", 2
	}
	return store, dataDir, 0
}

// showEvent prints one event, named by its position or its id, as the API
// shows it (indented).
func showEvent(ctx context.Context, store *sqlite.Store, reg *events.Registry, ref string, stdout io.Writer) error {
	env, err := findEvent(ctx, store, ref)
	if err != nil {
		return err
	}
	it, err := history.NewReader(store, reg).Item(ctx, env)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(it)
}

func findEvent(ctx context.Context, store *sqlite.Store, ref string) (events.Envelope, error) {
	if pos, err := strconv.ParseInt(ref, 10, 64); err == nil {
		envs, err := store.ReadAll(ctx, pos-1, 1)
		if err != nil {
			return events.Envelope{}, err
		}
		if len(envs) == 0 || envs[0].Position != pos {
			return events.Envelope{}, fmt.Errorf("no event at position %d", pos)
		}
		return envs[0], nil
	}
	// The store has no index by id for readers: scan.
	for after := int64(0); ; {
		envs, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			return events.Envelope{}, err
		}
		for _, env := range envs {
			if env.ID == ref {
				return env, nil
			}
			after = env.Position
		}
		if len(envs) == 0 {
			return events.Envelope{}, fmt.Errorf("no event with id %q", ref)
		}
	}
}

// exportEvents prints the events from..to (inclusive) as JSON lines: the
// API's items, or with raw the stored envelopes.
func exportEvents(ctx context.Context, store *sqlite.Store, reg *events.Registry, from, to int64, raw bool, stdout io.Writer) error {
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	reader := history.NewReader(store, reg)
	for after := max(from, 1) - 1; ; {
		envs, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(envs) == 0 {
			break
		}
		for _, env := range envs {
			if to > 0 && env.Position > to {
				return w.Flush()
			}
			var v any = env
			if !raw {
				if v, err = reader.Item(ctx, env); err != nil {
					return err
				}
			}
			if err := enc.Encode(v); err != nil {
				return err
			}
			after = env.Position
		}
	}
	return w.Flush()
}

func verifyEvents(ctx context.Context, store *sqlite.Store, reg *events.Registry, asJSON bool, stdout, stderr io.Writer) int {
	rep, err := history.Verify(ctx, store, reg)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p)
		}
		if rep.ProblemCount > len(rep.Problems) {
			fmt.Fprintf(stdout, "... and %d more\n", rep.ProblemCount-len(rep.Problems))
		}
		fmt.Fprintf(stdout, "%d events in %d streams, head %d: %d problems\n", rep.Events, rep.Streams, rep.Head, rep.ProblemCount)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "octavia-es events verify: %v\n", err)
		return 2
	case !rep.OK():
		return 1
	}
	return 0
}

// eventsTail follows GET /v2/lbaas/events/stream and prints each event's
// JSON on a line. A dropped connection (or a slow-consumer cut) is resumed
// with Last-Event-ID, so nothing is printed twice or skipped; refusals
// (4xx) end it.
func eventsTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:9876", "the octavia-es API")
	lb := fs.String("loadbalancer", "", "only this load balancer's events")
	project := fs.String("project", "", "only this project's events (admin)")
	typ := fs.String("type", "", "only these event types (comma separated; family.* allowed)")
	from := fs.Int64("from", 0, "first position (default: new events only)")
	asProject := fs.String("as-project", "", "X-Project-Id to send (noauth)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, eventsUsage)
		return 2
	}
	q := url.Values{}
	for k, v := range map[string]string{"loadbalancer_id": *lb, "project_id": *project, "type": *typ} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *from > 0 {
		q.Set("from", strconv.FormatInt(*from, 10))
	}
	t := tailer{url: strings.TrimRight(*base, "/") + "/v2/lbaas/events/stream", query: q, asProject: *asProject,
		out: bufio.NewWriter(stdout), stderr: stderr, last: -1}
	return t.run(ctx)
}

type tailer struct {
	url       string
	query     url.Values
	asProject string
	out       *bufio.Writer
	stderr    io.Writer
	last      int64 // last position the server named (-1: none yet)
}

// errRefused: the server refused the subscription; retrying won't help.
var errRefused = errors.New("refused")

func (t *tailer) run(ctx context.Context) int {
	defer func() { _ = t.out.Flush() }()
	backoff := 200 * time.Millisecond
	for {
		got, err := t.follow(ctx)
		if ctx.Err() != nil {
			return 0
		}
		if errors.Is(err, errRefused) {
			fmt.Fprintf(t.stderr, "octavia-es events tail: %v\n", err)
			return 1
		}
		if got {
			backoff = 200 * time.Millisecond
		}
		fmt.Fprintf(t.stderr, "octavia-es events tail: %v; reconnecting after position %d in %s\n", err, max(t.last, 0), backoff)
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// follow reads one connection until it ends; got reports whether it
// delivered anything.
func (t *tailer) follow(ctx context.Context) (got bool, err error) {
	u := t.url
	if len(t.query) > 0 {
		u += "?" + t.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errRefused, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if t.last >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(t.last, 10))
	}
	if t.asProject != "" {
		req.Header.Set("X-Project-Id", t.asProject)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			err = fmt.Errorf("%w: %v", errRefused, err)
		}
		return false, err
	}
	rd := bufio.NewReader(resp.Body)
	var id, typ, data string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			if err == io.EOF {
				err = errors.New("the stream ended")
			}
			return got, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if id != "" {
				if n, err := strconv.ParseInt(id, 10, 64); err == nil {
					t.last = n
				}
			}
			switch {
			case typ == "error":
				fmt.Fprintf(t.stderr, "octavia-es events tail: the server ended the stream: %s\n", data)
			case data != "":
				if _, err := t.out.WriteString(data + "\n"); err != nil {
					return got, fmt.Errorf("%w: write: %v", errRefused, err)
				}
				got = true
				if rd.Buffered() == 0 {
					if err := t.out.Flush(); err != nil {
						return got, fmt.Errorf("%w: write: %v", errRefused, err)
					}
				}
			}
			id, typ, data = "", "", ""
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id = value
			case "event":
				typ = value
			case "data":
				data = value
			}
		}
	}
}
