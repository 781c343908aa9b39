package agent

import (
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

func TestWords(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"", nil},
		{"   # only a comment", nil},
		{"    stats socket /run/a.sock mode 600 level admin", []string{"stats", "socket", "/run/a.sock", "mode", "600", "level", "admin"}},
		{"\tbind 127.0.0.1:80 # the VIP", []string{"bind", "127.0.0.1:80"}},
		{`stats socket '/tmp/it'\''s here/h.sock' level admin`, []string{"stats", "socket", "/tmp/it's here/h.sock", "level", "admin"}},
		{`server-state-file "/a b/\"q\""`, []string{"server-state-file", `/a b/"q"`}},
		{`path a\ b c#d`, []string{"path", "a b", "c"}},
		{`x '#not a comment'`, []string{"x", "#not a comment"}},
	}
	for _, tt := range tests {
		if got := words(tt.line); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	cfg := []byte(`# Configuration for loadbalancer x
global
    master-worker
    stats socket '/var/lib/x y/haproxy.sock' mode 600 level admin expose-fd listeners
    stats socket /other.sock
    server-state-file /var/lib/x/servers-state

defaults
    mode http

frontend l-http
    bind 127.0.0.1:80

frontend l-tcp
    mode tcp
    bind 127.0.0.1:3306

frontend l-tls
    bind 127.0.0.1:443 ssl crt /certs/l-tls.pem
    mode http

backend p1:l-http
    mode http
    server m1 127.0.0.1:8080
`)
	got := parseConfig(cfg)
	want := parsedConfig{
		statsSocket: "/var/lib/x y/haproxy.sock",
		stateFile:   "/var/lib/x/servers-state",
		frontends:   []frontend{{"l-http", "HTTP"}, {"l-tcp", "TCP"}, {"l-tls", "TERMINATED_HTTPS"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseConfig = %+v, want %+v", got, want)
	}
	if got := parseConfig([]byte("frontend f\n    bind :80\n")); got.statsSocket != "" || got.frontends[0].mode != "TCP" {
		t.Fatalf("without global and defaults: %+v", got)
	}
}

// A "show stat" answer of HAProxy 2.6 (columns cut after check_status).
const showStatAnswer = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,
L1,FRONTEND,,,3,5,2000,120,4000,9000,0,0,2,,,,,OPEN,,,,,,,,,1,2,0,,,,0,1,0,5,,
P1:L1,M1,0,0,1,2,,60,2000,4500,,0,,0,0,0,0,UP,1,1,0,0,0,10,0,,1,3,1,,60,,2,0,,2,L7OK,
P1:L1,M2,0,0,0,1,,60,2000,4500,,0,,0,0,0,0,DOWN 1/2,1,1,0,1,1,3,3,,1,3,2,,60,,2,0,,2,L4CON,
P1:L1,M3,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,0,1,0,0,0,10,0,,1,3,3,,0,,2,0,,0,L7OK,
P1:L1,M4,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,,,,1,3,4,,0,,2,0,,0,,
P1:L1,BACKEND,0,0,1,2,200,120,4000,9000,0,0,,0,0,0,0,UP,2,2,0,,0,10,0,,1,3,0,,120,,1,0,,4,,
prometheus-exporter,FRONTEND,,,0,0,10,7,1,1,0,0,0,,,,,OPEN,,,,,,,,,1,4,0,,,,0,0,0,0,,
stats,BACKEND,0,0,0,0,200,0,0,0,0,0,,0,0,0,0,UP,0,0,0,,0,10,0,,1,5,0,,0,,1,0,,0,,

`

func TestStatusFromShowStat(t *testing.T) {
	rows, err := parseStatCSV([]byte(showStatAnswer))
	if err != nil {
		t.Fatal(err)
	}
	got := statusFromRows(rows)
	wantListeners := map[string]listenerStat{
		"L1": {status: "OPEN", conns: 3, total: counterSet{bin: 4000, bout: 9000, ereq: 2, stot: 120}},
	}
	if !reflect.DeepEqual(got.listeners, wantListeners) {
		t.Fatalf("listeners = %+v, want %+v", got.listeners, wantListeners)
	}
	wantPools := map[string]heartbeat.Pool{"P1:L1": {Status: "UP", Members: map[string]string{
		"M1": "UP", "M2": "DOWN 1/2", "M3": "DRAIN", "M4": "no check",
	}}}
	if !reflect.DeepEqual(got.pools, wantPools) {
		t.Fatalf("pools = %+v, want %+v", got.pools, wantPools)
	}
	for _, bad := range []string{"", "Unknown command.\n", "Permission denied\n"} {
		if _, err := parseStatCSV([]byte(bad)); err == nil {
			t.Errorf("parseStatCSV(%q) accepted", bad)
		}
	}
}

func TestCountersDeltas(t *testing.T) {
	c := newCounters()
	cs := func(n int64) counterSet { return counterSet{bin: 10 * n, bout: 20 * n, ereq: n / 2, stot: n} }
	steps := []struct {
		name   string
		reload map[string]counterSet // folded before this step's sample
		cur    counterSet
		want   counterSet
	}{
		{"first sample is all new", nil, cs(10), cs(10)},
		{"then the difference", nil, cs(25), cs(15)},
		{"nothing new", nil, cs(25), cs(0)},
		// A reload at 31: the old worker's 6 are pending, the new worker
		// counts from 0 and has 4 at the next sample.
		{"across a reload", map[string]counterSet{"L1": cs(31)}, cs(4), counterSet{bin: 100, bout: 200, ereq: 5, stot: 10}},
		{"after the reload", nil, cs(9), cs(5)},
		// HAProxy restarted behind the agent's back: take it all (Octavia).
		{"counter went down", nil, cs(2), cs(2)},
	}
	for _, s := range steps {
		if s.reload != nil {
			c.beforeReload("lb", s.reload)
		}
		if got := c.delta("lb", "L1", s.cur); got != s.want {
			t.Fatalf("%s: delta = %+v, want %+v", s.name, got, s.want)
		}
	}
	c.forget("lb")
	if got := c.delta("lb", "L1", cs(7)); got != cs(7) {
		t.Fatalf("after forget: %+v", got)
	}
}

func TestParseShowProc(t *testing.T) {
	out := []byte(`#<PID>          <type>          <reloads>       <uptime>        <version>
20458           master          3 [failed: 1]   0d00h00m01s     2.6.12-1+deb12u4
# workers
20507           worker          0               0d00h00m00s     2.6.12-1+deb12u4
# old workers
20461           worker          1               0d00h00m01s     2.6.12-1+deb12u4
# programs
`)
	ps, err := parseProc(out)
	if err != nil {
		t.Fatal(err)
	}
	if ps.reloads != 3 || ps.failed != 1 || ps.currentWorker() != 20507 || len(ps.workers) != 2 {
		t.Fatalf("parsed %+v", ps)
	}
	if _, err := parseProc([]byte("Unknown command\n")); err == nil {
		t.Fatal("parsed an answer without a master line")
	}
}

func TestParseVersion(t *testing.T) {
	for out, want := range map[string]string{
		"HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: ...": "2.6.12-1+deb12u4",
		"HA-Proxy version 1.8.19 2019/02/11\n":                                            "1.8.19",
		"something else\n":                                                                "something else",
	} {
		if got := parseVersion([]byte(out)); got != want {
			t.Errorf("parseVersion(%q) = %q, want %q", out, got, want)
		}
	}
}
