package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// GoBench is one result line of `go test -bench`.
type GoBench struct {
	Name       string             `json:"name"` // without the -GOMAXPROCS suffix
	Iterations int64              `json:"iterations"`
	Metrics    map[string]float64 `json:"metrics"` // unit -> value: "ns/op", "events/s", "B/op", ...
}

// PerSecond returns the benchmark's rate in unit (e.g. "events/s") if it
// reported one, else one op per ns/op: the rate of operations.
func (g GoBench) PerSecond(unit string) (float64, bool) {
	if v, ok := g.Metrics[unit]; ok {
		return v, true
	}
	if ns, ok := g.Metrics["ns/op"]; ok && ns > 0 {
		return 1e9 / ns, false
	}
	return 0, false
}

// ParseGoBench reads the result lines of `go test -bench` output:
// "BenchmarkX-2  1234  5678 ns/op  90 events/s  ...". Other lines are ignored.
func ParseGoBench(out []byte) []GoBench {
	var res []GoBench
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		iters, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		g := GoBench{Name: trimProcs(f[0]), Iterations: iters, Metrics: map[string]float64{}}
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			g.Metrics[f[i+1]] = v
		}
		if ok {
			res = append(res, g)
		}
	}
	return res
}

// trimProcs drops the "-N" GOMAXPROCS suffix go test adds to names.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// RunGoBench runs `go test -run ^$ -bench pattern pkg` in dir with extra env
// and returns the parsed results and the raw output (kept for the log).
func RunGoBench(ctx context.Context, dir, pkg, pattern, benchtime string, env []string) ([]GoBench, []byte, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1", pkg}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, out, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	res := ParseGoBench(out)
	if len(res) == 0 {
		return nil, out, fmt.Errorf("go %s: no benchmark results", strings.Join(args, " "))
	}
	return res, out, nil
}
