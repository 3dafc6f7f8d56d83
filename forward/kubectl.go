package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/rhizome-dev/rhizome/forward/kube"
)

// findKubectl returns the kubectl to run: configured (the agent's RHIZOME_KUBECTL, which the
// errors name), else kubectl on PATH.
func findKubectl(configured string) (string, error) {
	if p := configured; p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%w: RHIZOME_KUBECTL=%s: %v", ErrKubectlMissing, p, errors.Unwrap(err))
		}
		return p, nil
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		return "", fmt.Errorf("%w on the agent's PATH (%s): install kubectl, or set RHIZOME_KUBECTL and restart the agent", ErrKubectlMissing, os.Getenv("PATH"))
	}
	return p, nil
}

// kubectl runs short kubectl commands (the connection command's exec, the pod's log) against
// one context and namespace.
type kubectl struct {
	path       string
	kubeconfig string
	context    string
	namespace  string
	timeout    time.Duration // bounds one short command (logs, exec); 0 means none
}

// argv is a kubectl command line with the context and namespace first, each one argument with
// its flag (--context=NAME), so that no name, whatever it holds, is read as a flag of its own.
func (k kubectl) argv(args ...string) []string {
	return append([]string{k.path, "--context=" + k.context, "--namespace=" + k.namespace}, args...)
}

// run runs a short kubectl command and returns its stdout; a failure carries kubectl's stderr,
// which says what went wrong in kubectl's own words.
//
// A command that does not finish within k.timeout is killed: an API server that stopped
// answering must not leave a forward, and the client waiting on it, stuck in one step.
func (k kubectl) run(ctx context.Context, args ...string) (string, error) {
	if k.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.timeout)
		defer cancel()
	}
	argv := k.argv(args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), kube.ChildEnv(k.kubeconfig)...)
	cmd.Dir = "/" // never the agent's working directory: nothing kubectl reads is relative to it
	cmd.SysProcAttr = dieWithAgent()
	cmd.WaitDelay = time.Second // a killed kubectl's leftover children must not hold its pipes open
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return stdout.String(), fmt.Errorf("kubectl %s: no answer within %v", args[0], k.timeout)
		}
		msg := kube.KubectlWords(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("kubectl %s: %s", args[0], msg)
	}
	return stdout.String(), nil
}

// FindKubectl returns the kubectl a forward would run, by the same rule, for the client's
// checks (rhizome doctor): configured ($RHIZOME_KUBECTL), else kubectl on PATH.
func FindKubectl(configured string) (string, error) { return findKubectl(configured) }
