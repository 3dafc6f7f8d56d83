package proc

import (
	"syscall"
	"unsafe"
)

// HasPdeathsig reports whether the kernel can kill a child when its parent
// dies. Where it cannot, only Options.Watchdog makes children die with the
// supervisor's process.
const HasPdeathsig = true

// sysProcAttr puts the child in a process group of its own, so that signals
// reach everything it starts, and, with pdeathsig, has the kernel SIGKILL it
// when the spawner's thread dies, which happens when the supervisor dies,
// even by SIGKILL.
func sysProcAttr(pdeathsig bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if pdeathsig {
		attr.Pdeathsig = syscall.SIGKILL
	}
	return attr
}

// waitExited blocks until the child pid has exited, without reaping it. While
// the zombie exists its pid, and so its process group id, cannot be reused,
// which makes signalling the group safe until the caller reaps it.
func waitExited(pid int) error {
	const pPID = 1     // idtype_t P_PID
	var info [128]byte // siginfo_t, unused
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		default:
			return errno
		}
	}
}
