//go:build !linux

package forward

import "syscall"

// dieWithAgent is nil where the kernel offers no parent-death signal.
func dieWithAgent() *syscall.SysProcAttr { return nil }
