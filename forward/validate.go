package forward

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rhizome-dev/rhizome/env"
)

// maxNameLen bounds a forward's label, which every log line and ps row repeats.
const maxNameLen = 200

// validate refuses anything that would not reach kubectl as the plain name it claims to be.
// The rules are env's, the ones the config file is read with, so that what a config accepts
// the agent accepts too.
func (r Request) validate() error {
	for _, f := range []struct {
		name, value string
		check       func(string) error
		what        string
	}{
		{"kube_context", r.Context, env.CheckContext, "a Kubernetes name"},
		{"kube_namespace", r.Namespace, env.CheckKubeObject, "a Kubernetes name"},
		{"kube_deployment", r.Deployment, env.CheckKubeObject, "a Kubernetes name"},
		{"sql_connection", r.SQLConnection, env.CheckInstance, "a Cloud SQL connection name"},
	} {
		if err := f.check(f.value); err != nil {
			return fmt.Errorf("%w: %s %q is not %s: %v", ErrInvalid, f.name, f.value, f.what, err)
		}
	}
	if r.LocalPort != 0 { // 0: the default
		if err := env.CheckPort(r.LocalPort); err != nil {
			return fmt.Errorf("%w: local_port %d: %v (0 for the default)", ErrInvalid, r.LocalPort, err)
		}
	}
	if r.PodPort != 0 { // 0: the connection command says
		if err := env.CheckPort(r.PodPort); err != nil {
			return fmt.Errorf("%w: pod_port %d: %v (0 to ask the connection command)", ErrInvalid, r.PodPort, err)
		}
	}
	if _, err := env.LookupEngine(r.Engine); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(r.ConnectCommand) > 0 { // none: the default
		if err := env.CheckConnectCommand(r.ConnectCommand); err != nil {
			return fmt.Errorf("%w: connect_command %v", ErrInvalid, err)
		}
	}
	if r.User != "" { // "": the client's own
		if err := env.CheckUser(r.User); err != nil {
			return fmt.Errorf("%w: user %q: %v", ErrInvalid, r.User, err)
		}
	}
	if len(r.PasswordCommand) > 0 { // none: no login
		if err := env.CheckPasswordCommand(r.PasswordCommand); err != nil {
			return fmt.Errorf("%w: password_command %v", ErrInvalid, err)
		}
	}
	if r.PasswordTTL < 0 {
		return fmt.Errorf("%w: password_ttl %v: want 0 (every connection) or more", ErrInvalid, r.PasswordTTL)
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
	if r.Kubeconfig != "" {
		if err := env.CheckKubeconfig(r.Kubeconfig); err != nil {
			return fmt.Errorf("%w: kubeconfig %q: %v", ErrInvalid, r.Kubeconfig, err)
		}
	}
	return nil
}
