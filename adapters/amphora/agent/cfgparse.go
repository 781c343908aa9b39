package agent

import (
	"bufio"
	"bytes"
	"strings"
)

// parsedConfig is what the agent reads back from an uploaded HAProxy
// configuration (as Octavia's util.parse_haproxy_file): where HAProxy's
// stats socket and server state file are, and the listeners.
type parsedConfig struct {
	statsSocket string // first "stats socket" of the global section
	stateFile   string // "server-state-file", "" = none
	frontends   []frontend
}

// files are the stats socket and state file of a configuration HAProxy
// runs in dir, as absolute paths ("" when absent or not a unix socket).
func (p parsedConfig) files(dir string) (statsSocket, stateFile string) {
	statsSocket, _ = socketPath(dir, p.statsSocket)
	return statsSocket, filePath(dir, p.stateFile)
}

// frontend is a listener: named by its id, with its protocol as Octavia's
// agent reports it (HTTP, TCP, TERMINATED_HTTPS).
type frontend struct {
	name string
	mode string
}

var sectionKeywords = map[string]bool{
	"global": true, "defaults": true, "frontend": true, "backend": true, "listen": true,
	"peers": true, "resolvers": true, "userlist": true, "program": true, "http-errors": true,
	"ring": true, "cache": true, "mailers": true,
}

func parseConfig(b []byte) parsedConfig {
	var (
		p           parsedConfig
		section     string
		defaultMode = "TCP" // HAProxy's default mode
		cur         *frontend
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		w := words(sc.Text())
		if len(w) == 0 {
			continue
		}
		if sectionKeywords[w[0]] {
			section, cur = w[0], nil
			if section == "frontend" && len(w) > 1 {
				p.frontends = append(p.frontends, frontend{name: w[1]})
				cur = &p.frontends[len(p.frontends)-1]
			}
			continue
		}
		switch {
		case section == "global" && len(w) > 2 && w[0] == "stats" && w[1] == "socket" && p.statsSocket == "":
			p.statsSocket = w[2]
		case section == "global" && len(w) > 1 && w[0] == "server-state-file":
			p.stateFile = w[1]
		case section == "defaults" && len(w) > 1 && w[0] == "mode":
			defaultMode = strings.ToUpper(w[1])
		case cur != nil && len(w) > 1 && w[0] == "mode" && cur.mode != "TERMINATED_HTTPS":
			cur.mode = strings.ToUpper(w[1])
		case cur != nil && w[0] == "bind" && hasSSLCrt(w):
			cur.mode = "TERMINATED_HTTPS"
		}
	}
	for i := range p.frontends {
		if p.frontends[i].mode == "" {
			p.frontends[i].mode = defaultMode
		}
	}
	return p
}

func hasSSLCrt(w []string) bool {
	ssl, crt := false, false
	for _, x := range w {
		ssl = ssl || x == "ssl"
		crt = crt || x == "crt" || x == "crt-list"
	}
	return ssl && crt
}

// words splits a configuration line as HAProxy does, for the parts the
// agent reads: whitespace-separated words, '#' comments, single quotes
// (literal), double quotes and backslash escapes, adjacent pieces joined
// ('a'\”b' is a'b).
func words(line string) []string {
	var (
		out     []string
		cur     strings.Builder
		inWord  bool
		quote   byte
		escaped bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\':
			escaped, inWord = true, true
		case c == '#':
			i = len(line)
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
