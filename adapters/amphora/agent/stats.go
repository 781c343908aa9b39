package agent

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

// statRow is one row of HAProxy's "show stat" CSV, by column name.
type statRow map[string]string

func (r statRow) int(col string) int64 {
	n, _ := strconv.ParseInt(r[col], 10, 64)
	return n
}

// showStat queries a stats socket as Octavia's haproxy_query.show_stat.
func showStat(ctx context.Context, socket string) ([]statRow, error) {
	out, err := cliCommand(ctx, socket, "show stat")
	if err != nil {
		return nil, err
	}
	return parseStatCSV(out)
}

// parseStatCSV reads "# pxname,svname,qcur,...," and the rows after it.
func parseStatCSV(b []byte) ([]statRow, error) {
	b = bytes.TrimLeft(b, "\n")
	if !bytes.HasPrefix(b, []byte("# ")) {
		return nil, fmt.Errorf("show stat: unexpected answer %q", firstLine(b))
	}
	r := csv.NewReader(bytes.NewReader(b[2:]))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("show stat: header: %w", err)
	}
	var rows []statRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("show stat: %w", err)
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		row := make(statRow, len(header))
		for i, name := range header {
			if i < len(rec) && name != "" {
				row[name] = rec[i]
			}
		}
		rows = append(rows, row)
	}
}

func firstLine(b []byte) string {
	l, _, _ := bytes.Cut(b, []byte("\n"))
	if len(l) > 80 {
		l = l[:80]
	}
	return string(l)
}

// lbStatus is what a load balancer's HAProxy reports, Octavia's way: its
// frontends are listeners (named by listener id), its backends
// "<pool id>:<listener id>" pools whose servers are members (named by
// member id). Proxies with "prometheus" in their name are HAProxy's
// internal exporter, not billed traffic (as haproxy_query.py).
type lbStatus struct {
	listeners map[string]listenerStat
	pools     map[string]heartbeat.Pool
}

type listenerStat struct {
	status string
	conns  int64 // current connections: absolute
	total  counterSet
}

func statusFromRows(rows []statRow) lbStatus {
	st := lbStatus{listeners: map[string]listenerStat{}, pools: map[string]heartbeat.Pool{}}
	for _, r := range rows {
		px, sv := r["pxname"], r["svname"]
		if strings.Contains(px, "prometheus") {
			continue
		}
		switch sv {
		case "FRONTEND":
			st.listeners[px] = listenerStat{
				status: r["status"], conns: r.int("scur"),
				total: counterSet{bin: r.int("bin"), bout: r.int("bout"), ereq: r.int("ereq"), stot: r.int("stot")},
			}
		case "BACKEND":
			if !strings.Contains(px, ":") {
				continue // not a pool of a listener
			}
			p := st.pools[px]
			p.Status = r["status"]
			if p.Members == nil {
				p.Members = map[string]string{}
			}
			st.pools[px] = p
		default:
			if !strings.Contains(px, ":") {
				continue
			}
			p := st.pools[px]
			if p.Members == nil {
				p.Members = map[string]string{}
			}
			status := r["status"]
			// Some HAProxy versions report a drained (weight 0) server UP:
			// spoof DRAIN as Octavia does.
			if status == "UP" && r["weight"] == "0" {
				status = "DRAIN"
			}
			p.Members[sv] = status
			st.pools[px] = p
		}
	}
	return st
}
