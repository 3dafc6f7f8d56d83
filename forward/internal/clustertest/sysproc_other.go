//go:build !linux

package clustertest

import "syscall"

// childAttr puts a cluster process in a group of its own. Without Pdeathsig (Linux only) it
// outlives a test binary killed by SIGKILL; Cluster.Close still stops it on every other exit.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
