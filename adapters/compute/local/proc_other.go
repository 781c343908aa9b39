//go:build !linux

package local

import "syscall"

// Without /proc a process cannot be identified by its command line: a live
// pid leading its own group is taken for the agent of its pid file.
func isAgent(pid int, _ string) bool {
	pgid, err := syscall.Getpgid(pid)
	return err == nil && pgid == pid
}

func agentsOf(string) []int { return nil }

func leftoversOf(int, string) []int { return nil }
