//go:build !linux

package forward

import "syscall"

// dieWithAgent asks nothing of the kernel where it offers no parent-death signal; callers may
// still set other attributes on what it returns.
func dieWithAgent() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
