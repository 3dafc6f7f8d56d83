//go:build unix && !linux

package proc

import "syscall"

// HasPdeathsig reports whether the kernel can kill a child when its parent
// dies. Where it cannot, only Options.Watchdog makes children die with the
// supervisor's process.
const HasPdeathsig = false

// sysProcAttr puts the child in a process group of its own, so that signals
// reach everything it starts. Without Pdeathsig (Linux only), children
// survive a supervisor killed by SIGKILL unless started by the watchdog.
func sysProcAttr(bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitExited returns at once: without waitid's WNOWAIT the child is reaped
// by cmd.Wait, and signals after that are skipped (see child.wait).
func waitExited(pid int) error { return errNoWaitNoReap }
