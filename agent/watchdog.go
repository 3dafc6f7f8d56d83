package agent

import "github.com/rhizome-dev/rhizome/proc"

// WatchdogCommand is the hidden subcommand of the rhizome binary that runs proc's watchdog:
// children start through it and die with the agent, even by SIGKILL, where the kernel has no
// parent-death signal.
const WatchdogCommand = "_watchdog"

// RunWatchdog is the body of WatchdogCommand, given the words that follow it.
func RunWatchdog(args []string) error { return proc.RunWatchdog(args) }
