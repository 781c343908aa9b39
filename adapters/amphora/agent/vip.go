package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
)

var errBadVIP = errors.New("not an IP address")

// vipRecord plugs VIPs. On this provider the VIP is an address of the host
// (a 127.x address on loopback, which Linux lets any process bind), so
// plugging checks that it can be bound and records it with the subnet
// information in <base_dir>/vips.json; Octavia's agent would configure an
// interface in the amphora's namespace instead.
type vipRecord struct {
	path string

	mu sync.Mutex
}

func (v *vipRecord) plug(vip string, netInfo map[string]any) (iface string, err error) {
	addr, err := netip.ParseAddr(vip)
	if err != nil {
		return "", fmt.Errorf("%w: %q", errBadVIP, vip)
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		return "", fmt.Errorf("VIP %s can't be bound on this host: %w", vip, err)
	}
	_ = ln.Close()

	v.mu.Lock()
	defer v.mu.Unlock()
	plugged := map[string]map[string]any{}
	if b, err := os.ReadFile(v.path); err == nil {
		_ = json.Unmarshal(b, &plugged) // a damaged record is rewritten
	}
	if netInfo == nil {
		netInfo = map[string]any{}
	}
	plugged[addr.String()] = netInfo
	b, err := json.MarshalIndent(plugged, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(v.path), 0o700); err != nil {
		return "", err
	}
	if err := writeFileAtomic(v.path, b, 0o600); err != nil {
		return "", err
	}
	return interfaceOf(addr), nil
}

// interfaceOf names the interface whose network holds addr ("lo" for
// 127.x on Linux), "" if none does.
func interfaceOf(addr netip.Addr) string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.Contains(addr.AsSlice()) {
				return i.Name
			}
		}
	}
	return ""
}
