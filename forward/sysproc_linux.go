package forward

import "syscall"

// dieWithAgent has the kernel SIGKILL a short kubectl command (logs, exec) when the agent
// dies, even by SIGKILL, as proc does for supervised children. Pdeathsig follows the thread
// that forked, not the process; Go retires a thread only when a goroutine locked to it
// exits, which no goroutine that runs these commands is.
func dieWithAgent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
