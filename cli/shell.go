package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rhizome-dev/rhizome/env"
)

// shellSyntax is the dialect `rhizome agent` prints its variables in.
type shellSyntax int

const (
	shSyntax shellSyntax = iota
	cshSyntax
	fishSyntax
)

// shellFromEnv follows $SHELL as ssh-agent does: csh-like shells get csh syntax, fish gets
// fish's, everything else Bourne.
func shellFromEnv() shellSyntax {
	base := filepath.Base(os.Getenv("SHELL"))
	switch {
	case strings.HasSuffix(base, "csh"):
		return cshSyntax
	case base == "fish":
		return fishSyntax
	}
	return shSyntax
}

// printAgentVars prints ssh-agent's lines for the agent at socket, pid:
//
//	RHIZOME_SOCK=/run/user/1000/rhizome/agent.sock; export RHIZOME_SOCK;
//	RHIZOME_AGENT_PID=4242; export RHIZOME_AGENT_PID;
//	echo Agent pid 4242;
func printAgentVars(w io.Writer, sh shellSyntax, socket string, pid int, quiet bool) {
	setVar(w, sh, env.VarSock, socket)
	setVar(w, sh, env.VarAgentPID, fmt.Sprint(pid))
	if !quiet {
		fmt.Fprintf(w, "echo Agent pid %d;\n", pid)
	}
}

func setVar(w io.Writer, sh shellSyntax, name, value string) {
	q := shellQuote(value)
	switch sh {
	case cshSyntax:
		fmt.Fprintf(w, "setenv %s %s;\n", name, q)
	case fishSyntax:
		fmt.Fprintf(w, "set -gx %s %s;\n", name, q)
	default:
		fmt.Fprintf(w, "%s=%s; export %s;\n", name, q, name)
	}
}

// printUnsetVars prints the lines that undo printAgentVars, as `ssh-agent -k` does.
func printUnsetVars(w io.Writer, sh shellSyntax, pid int, quiet bool) {
	for _, name := range []string{env.VarSock, env.VarAgentPID} {
		switch sh {
		case cshSyntax:
			fmt.Fprintf(w, "unsetenv %s;\n", name)
		case fishSyntax:
			fmt.Fprintf(w, "set -e %s;\n", name)
		default:
			fmt.Fprintf(w, "unset %s;\n", name)
		}
	}
	if !quiet {
		fmt.Fprintf(w, "echo Agent pid %d killed;\n", pid)
	}
}

// shellQuote leaves plain paths alone, as ssh-agent prints them, and single-quotes anything
// else. Single quotes mean the same in sh, csh and fish for strings without quotes or
// backslashes, which is all a socket path of ours can hold once validated.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + s + "'"
}

// checkPrintablePath refuses socket paths that no shell could be given safely.
func checkPrintablePath(p string) error {
	if strings.ContainsAny(p, "'\\\n\r\x00!$`") {
		return usageErrorf("socket path %q has characters the shell lines cannot carry safely: choose another with -a", p)
	}
	return nil
}
