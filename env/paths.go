// Package env knows where rhizome keeps things (the XDG paths of the socket, logfile and
// config) and the named environments that `rhizome forward ENV DB` resolves.
package env

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Environment variables rhizome reads and exports.
const (
	VarSock     = "RHIZOME_SOCK"      // the agent's socket, exported by `rhizome agent`
	VarAgentPID = "RHIZOME_AGENT_PID" // the agent's pid, exported by `rhizome agent`
	VarSimulate = "RHIZOME_SIMULATE"  // true: forwards on the simulated cluster
)

// DefaultSocket is where the agent listens unless told otherwise:
// $XDG_RUNTIME_DIR/rhizome/agent.sock, or, when XDG_RUNTIME_DIR is unset, a private directory
// under $TMPDIR named for the uid (as tmux does).
func DefaultSocket() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "rhizome", "agent.sock")
	}
	return filepath.Join(os.TempDir(), "rhizome-"+strconv.Itoa(os.Getuid()), "agent.sock")
}

// ClientSocket is the socket a client dials: flag (a --socket the user gave) when set, else
// $RHIZOME_SOCK when set, else DefaultSocket. Every client asks this one function: the CLI's
// commands, its completion and env.Handle.
func ClientSocket(flag string) string {
	if flag != "" {
		return flag
	}
	if s := os.Getenv(VarSock); s != "" {
		return s
	}
	return DefaultSocket()
}

// ClientKubeconfig is the kubeconfig this process's kubectl would read, spelled so that the
// agent, which runs elsewhere, reads the same: $KUBECONFIG with each relative path made
// absolute against the working directory, or ~/.kube/config when it is unset or empty.
func ClientKubeconfig() string {
	v := os.Getenv("KUBECONFIG")
	var paths []string
	for _, p := range filepath.SplitList(v) {
		if p == "" {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		return filepath.Join(home, ".kube", "config")
	}
	return strings.Join(paths, string(filepath.ListSeparator))
}

// StateDir holds the agent's logfile: $XDG_STATE_HOME/rhizome, default ~/.local/state/rhizome.
func StateDir() string {
	return xdgDir("XDG_STATE_HOME", ".local/state")
}

// LogFile is the agent's logfile.
func LogFile() string { return filepath.Join(StateDir(), "agent.log") }

// ConfigDir holds the user's configuration: $XDG_CONFIG_HOME/rhizome, default ~/.config/rhizome.
func ConfigDir() string {
	return xdgDir("XDG_CONFIG_HOME", ".config")
}

func xdgDir(variable, fallback string) string {
	if dir := os.Getenv(variable); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "rhizome")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, fallback, "rhizome")
}
