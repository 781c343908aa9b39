package agent

import "syscall"

// procAttr puts HAProxy's master in its own process group (so its workers
// can be signalled together) and has the kernel send it SIGTERM if the
// agent dies without stopping it (kill -9): no orphan keeps serving the
// VIP of an amphora that was failed over.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
