package clustertest

import "syscall"

// childAttr puts a cluster process in a group of its own, killed by the kernel when the test
// process dies, even by SIGKILL.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
