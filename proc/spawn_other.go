//go:build unix && !linux

package proc

import "syscall"

// sysProcAttr puts the child in a process group of its own, so that signals
// reach everything it starts. Without Pdeathsig (Linux only), children
// survive a supervisor killed by SIGKILL.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitExited returns at once: without waitid's WNOWAIT the child is reaped
// by cmd.Wait, and signals after that are skipped (see child.wait).
func waitExited(pid int) error { return errNoWaitNoReap }
