package forward

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/rhizome-dev/rhizome/env"
)

// The patterns below are compiled on first use, not at init: their bounded repetitions
// ({0,252}, {1,512}) compile to large programs (about 0.7 MB and 1.3 ms), which every run of the
// CLI paid at start-up although only the agent, on a forward request, matches them.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// kubeNameRE is what rhizome passes to kubectl as a context, namespace or deployment: nothing
// kubectl could read as a flag (a leading '-') and nothing a shell or path trick needs.
var kubeNameRE = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,252}$`)

// instanceRE is a Cloud SQL connection name, project:region:instance.
var instanceRE = lazyRegexp(`^[a-z0-9][a-z0-9.:-]{0,200}:[a-z0-9-]+:[a-z0-9][a-z0-9-]*$`)

// argRE is what a word of the connection command may be: a path or a plain option, no shell
// metacharacters, since some connection scripts hand their arguments to a shell.
var argRE = lazyRegexp(`^[A-Za-z0-9_./:=,@+%-]{1,512}$`)

// maxNameLen bounds a forward's label, which every log line and ps row repeats.
const maxNameLen = 200

// validate refuses anything that would not reach kubectl as the plain name it claims to be.
func (r Request) validate() error {
	for _, f := range []struct{ name, value string }{
		{"kube_context", r.Context}, {"kube_namespace", r.Namespace}, {"kube_deployment", r.Deployment},
	} {
		if !kubeNameRE().MatchString(f.value) {
			return fmt.Errorf("%w: %s %q is not a Kubernetes name (letters, digits, '.', '_', ':', '@', '-'; not starting with '-')", ErrInvalid, f.name, f.value)
		}
	}
	if !instanceRE().MatchString(r.SQLConnection) {
		return fmt.Errorf("%w: sql_connection %q is not a Cloud SQL connection name (project:region:instance)", ErrInvalid, r.SQLConnection)
	}
	if _, err := env.LookupEngine(r.Engine); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if r.LocalPort < 0 || r.LocalPort > 65535 {
		return fmt.Errorf("%w: local_port %d: want 1 to 65535 (0 for the default)", ErrInvalid, r.LocalPort)
	}
	for i, arg := range r.ConnectCommand {
		if !argRE().MatchString(arg) || (i == 0 && arg[0] == '-') {
			return fmt.Errorf("%w: connect_command word %q: want a program path and plain arguments, no shell characters", ErrInvalid, arg)
		}
	}
	if r.PortPattern != "" {
		if _, err := compilePattern(r.PortPattern, r.SQLConnection); err != nil {
			return err
		}
	}
	// The name is written into the logfile and terminals: a newline in it would forge log
	// lines, an escape sequence would drive the terminal of whoever runs ps or logs.
	if len(r.Name) > maxNameLen || !utf8.ValidString(r.Name) || strings.ContainsFunc(r.Name, unicode.IsControl) {
		return fmt.Errorf("%w: name %q: want at most %d printable characters", ErrInvalid, r.Name, maxNameLen)
	}
	if r.Kubeconfig != "" && !argRE().MatchString(r.Kubeconfig) {
		return fmt.Errorf("%w: kubeconfig %q: want plain paths separated by ':'", ErrInvalid, r.Kubeconfig)
	}
	return nil
}
