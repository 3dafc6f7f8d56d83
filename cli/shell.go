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
	q := shellQuote(sh, value)
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

// shellQuote quotes s for sh, csh or fish. Plain paths stay as they are, as ssh-agent prints
// them; anything else is single-quoted, with what each shell treats specially inside single
// quotes escaped: a quote everywhere, a backslash in fish, a history ! in csh.
// checkPrintablePath has refused what no quoting can carry.
func shellQuote(sh shellSyntax, s string) string {
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
	switch sh {
	case fishSyntax:
		s = strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
	case cshSyntax:
		s = strings.NewReplacer(`'`, `'\''`, `!`, `\!`).Replace(s)
	default:
		s = strings.ReplaceAll(s, `'`, `'\''`)
	}
	return "'" + s + "'"
}

// checkPrintablePath refuses socket paths that a shell cannot be given intact: control
// characters (a newline ends a line of csh), and for csh a backslash before a ! or a run of
// blanks, which csh's eval `…` joins back with single spaces.
func checkPrintablePath(sh shellSyntax, p string) error {
	bad := strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f })
	if sh == cshSyntax {
		bad = bad || strings.Contains(p, `\!`) || strings.Contains(p, "  ")
	}
	if bad {
		return usageErrorf("socket path %q has characters the shell lines cannot carry intact: choose another with -a", p)
	}
	return nil
}
