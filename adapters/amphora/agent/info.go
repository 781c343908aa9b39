package agent

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// infoSource answers GET /1.0/info and /1.0/details.
type infoSource struct {
	hostname, haproxyVersion, amphoraID, baseDir string
}

func newInfoSource(amphoraID, baseDir, haproxyVersion string) *infoSource {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "amphora-" + amphoraID
	}
	return &infoSource{hostname: host, haproxyVersion: haproxyVersion, amphoraID: amphoraID, baseDir: baseDir}
}

// info is Octavia's compile_amphora_info plus amphora_id and base_path
// (octavia-es additions: the controller renders file paths under it).
func (s *infoSource) info() map[string]any {
	return map[string]any{
		"hostname":        s.hostname,
		"haproxy_version": s.haproxyVersion,
		"api_version":     APIVersion,
		"amphora_id":      s.amphoraID,
		"base_path":       s.baseDir,
	}
}

// details is Octavia's compile_amphora_details, from /proc where Linux has
// it (zeros elsewhere).
func (s *infoSource) details(haproxyCount int, listeners []string) map[string]any {
	d := s.info()
	mem := meminfo()
	cpu := cpuTimes()
	var disk struct{ used, available uint64 }
	var st syscall.Statfs_t
	if syscall.Statfs(s.baseDir, &st) == nil {
		disk.used = (st.Blocks - st.Bfree) * uint64(st.Bsize)
		disk.available = st.Bavail * uint64(st.Bsize)
	}
	d["active"] = true
	d["haproxy_count"] = haproxyCount
	d["listeners"] = listeners
	d["topology"] = "SINGLE"
	d["topology_status"] = "OK"
	d["networks"] = map[string]any{}
	d["packages"] = map[string]any{}
	d["load"] = loadavg()
	d["memory"] = map[string]int64{
		"total": mem["MemTotal"], "free": mem["MemFree"], "buffers": mem["Buffers"], "cached": mem["Cached"],
		"swap_used": mem["SwapCached"], "shared": mem["Shmem"], "slab": mem["Slab"],
	}
	d["cpu"] = cpu
	d["disk"] = map[string]uint64{"used": disk.used, "available": disk.available}
	return d
}

// meminfo reads /proc/meminfo in kB.
func meminfo() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) > 0 {
			out[k], _ = strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return out
}

// cpuTimes reads the first line of /proc/stat as Octavia's _cpu.
func cpuTimes() map[string]int64 {
	out := map[string]int64{"total": 0, "user": 0, "system": 0, "soft_irq": 0}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return out
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return out
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
	for i := 1; i < len(f); i++ {
		out["total"] += n(i)
	}
	out["user"], out["system"], out["soft_irq"] = n(1), n(3), n(7)
	return out
}

func loadavg() []string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return []string{}
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return []string{}
	}
	return f[:3]
}
