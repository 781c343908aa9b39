//go:build unix && !linux

package agent

import "syscall"

// procAttr puts HAProxy's master in its own process group. Without Linux's
// Pdeathsig, a killed agent leaves HAProxy running: stop it by group.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
