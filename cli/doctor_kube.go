package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/rpc"
)

// The bounds of one kubectl check: kubectl's own timeout on each request to the API server,
// and a deadline on the whole process, which also covers a credential plugin that hangs and
// kubectl's retries of discovery.
const (
	kubeRequestTimeout = 5 * time.Second
	kubeCheckTimeout   = 10 * time.Second
)

// doctorParallel bounds how many kubectl checks run at once. They run in parallel because
// each may wait out its bound on a dead cluster; gcloud's kubectl dispatcher even asks the
// current context's server for its version before `kubectl version --client`.
const doctorParallel = 16

// kubeChecks checks kubectl, then each environment's context and, where the context is in the
// kubeconfig, its permissions and its deployment. Every kubectl runs at once, so a dead API
// server costs one bound, not one per check; the answers for a context that turns out to be
// missing are dropped.
func kubeChecks(ctx context.Context, envs []*env.Environment) []check {
	path, err := forward.FindKubectl(os.Getenv(varKubectl))
	if err != nil {
		return []check{failed("kubectl", "install kubectl (https://kubernetes.io/docs/tasks/tools/), or set RHIZOME_KUBECTL", "%v", err)}
	}
	var version check
	var contexts []string
	var contextsErr error
	apiChecks := make([][]check, len(envs))
	jobs := []func(){
		func() { version = checkKubectl(ctx, path) },
		func() {
			var out string
			out, contextsErr = runKubectl(ctx, path, "config", "get-contexts", "-o", "name")
			contexts = strings.Fields(out)
		},
	}
	for i, e := range envs {
		apiChecks[i] = make([]check, 3)
		jobs = append(jobs,
			func() { apiChecks[i][0] = checkCanI(ctx, path, e, "pods/portforward") },
			func() { apiChecks[i][1] = checkCanI(ctx, path, e, "pods/exec") },
			func() { apiChecks[i][2] = checkDeployment(ctx, path, e) })
	}
	runAll(jobs)

	checks := []check{version}
	if contextsErr != nil {
		return append(checks, failed("kubeconfig", "fix or remove the kubeconfig file kubectl names", "kubectl config get-contexts: %v", contextsErr))
	}
	for i, e := range envs {
		if !slices.Contains(contexts, e.Context) {
			if len(contexts) == 0 && !kubeconfigExists() {
				checks = append(checks, failed(e.Name+" context", env.ContextHint(e.Context),
					"%q is not in the kubeconfig: there is no kubeconfig file (%s)", e.Context, env.ClientKubeconfig()))
				continue
			}
			checks = append(checks, failed(e.Name+" context", env.ContextHint(e.Context),
				"%q is not in the kubeconfig (it has: %s)", e.Context, listOrNone(contexts)))
			continue
		}
		checks = append(checks, passed(e.Name+" context", "%s is in the kubeconfig", e.Context))
		checks = append(checks, apiChecks[i]...)
	}
	return checks
}

// kubeconfigExists reports whether any file of the kubeconfig kubectl reads here exists.
func kubeconfigExists() bool {
	for _, p := range filepath.SplitList(env.ClientKubeconfig()) {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// agentRestartFix is what to do when the agent's own environment lacks what the shell has.
const agentRestartFix = "give the agent's environment what your shell has (RHIZOME_KUBECTL, PATH: in its systemd unit or launchd plist, or restart it from this shell: " + restartAgent + ")"

// agentKubeChecks asks the running agent what it would run for each environment's forward,
// from its own environment: its kubectl, and the context's credential plugin on its PATH. A
// service manager's PATH is not the shell's, so the shell's checks above do not tell.
func agentKubeChecks(ctx context.Context, socket string, envs []*env.Environment) []check {
	ctx, cancel := context.WithTimeout(ctx, kubeCheckTimeout+answerTimeout)
	defer cancel()
	client, err := rpc.Dial(ctx, socket)
	if err != nil {
		return nil // checkAgent has said why
	}
	defer client.Close()
	var checks []check
	for i, e := range envs {
		r, err := client.Kube(ctx, rpc.KubeParams{Kubeconfig: env.ClientKubeconfig(), Context: e.Context})
		if err != nil {
			return append(checks, failed("agent kubectl", restartAgent, "the agent could not say: %v", err))
		}
		if i == 0 {
			if r.KubectlError != "" {
				return append(checks, failed("agent kubectl", agentRestartFix, "the agent (pid %d) finds none: %s", client.PID(), withoutPackagePrefix(r.KubectlError)))
			}
			checks = append(checks, passed("agent kubectl", "the agent runs %s", r.Kubectl))
		}
		switch {
		case r.Plugin == "":
		case r.PluginError != "":
			checks = append(checks, failed(e.Name+" credential plugin", agentRestartFix,
				"the agent cannot run %s, which the credentials of %s need: %s (its PATH: %s)", r.Plugin, e.Context, r.PluginError, r.Path))
		default:
			checks = append(checks, passed(e.Name+" credential plugin", "the agent runs %s", r.PluginPath))
		}
	}
	return checks
}

// runAll runs the jobs, doctorParallel at a time, and returns when all have.
func runAll(jobs []func()) {
	sem := make(chan struct{}, doctorParallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			j()
		}()
	}
	wg.Wait()
}

// checkKubectl asks the kubectl at path for its version.
func checkKubectl(ctx context.Context, path string) check {
	const fix = "reinstall kubectl, or set RHIZOME_KUBECTL to a working one"
	out, err := runKubectl(ctx, path, "version", "--client", "-o", "json")
	if err != nil {
		return failed("kubectl", fix, "%s: %v", path, err)
	}
	var v struct {
		ClientVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ClientVersion.GitVersion == "" {
		return failed("kubectl", fix, "%s: no version in its answer %q", path, oneLine(out))
	}
	return passed("kubectl", "%s, %s", path, v.ClientVersion.GitVersion)
}

// runKubectl runs kubectl with the user's environment (KUBECONFIG included) and returns its
// stdout. An error carries kubectl's last line of stderr, or says it did not answer in time.
func runKubectl(ctx context.Context, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, kubeCheckTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = os.Environ()
	cmd.WaitDelay = time.Second // a killed kubectl's children must not hold the pipes open
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return stdout.String(), fmt.Errorf("no answer within %v", kubeCheckTimeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), errors.New(lastLine(msg))
	}
	return stdout.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// kubeArgs are the flags every API check starts with: the environment's context and namespace
// and kubectl's request timeout.
func kubeArgs(e *env.Environment, args ...string) []string {
	return append([]string{"--context", e.Context, "--namespace", e.Namespace,
		"--request-timeout", kubeRequestTimeout.String()}, args...)
}

// checkCanI asks the API server whether the environment's credentials may create resource (a
// subresource of pods) in its namespace, as a forward must.
func checkCanI(ctx context.Context, kubectl string, e *env.Environment, resource string) check {
	name := e.Name + " " + resource
	// "can-i create pods/exec" would ask about a pod named exec: a subresource is a flag.
	kind, sub, _ := strings.Cut(resource, "/")
	out, err := runKubectl(ctx, kubectl, kubeArgs(e, "auth", "can-i", "create", kind, "--subresource", sub)...)
	answer := strings.TrimSpace(out)
	switch {
	case answer == "yes":
		return passed(name, "may create %s in namespace %s", resource, e.Namespace)
	case strings.HasPrefix(answer, "no"):
		return failed(name, rbacFix(e, "create", resource), "the credentials of %s may not create %s in namespace %s", e.Context, resource, e.Namespace)
	case err == nil:
		err = fmt.Errorf("kubectl auth can-i answered %q", answer)
	}
	return failed(name, kubeFix(e, err.Error()), "%v", err)
}

// checkDeployment checks that the deployment whose pod runs the connection script exists.
func checkDeployment(ctx context.Context, kubectl string, e *env.Environment) check {
	name := e.Name + " deployment"
	_, err := runKubectl(ctx, kubectl, kubeArgs(e, "get", "deployment", e.Deployment, "-o", "name")...)
	if err == nil {
		return passed(name, "%s exists in namespace %s", e.Deployment, e.Namespace)
	}
	return failed(name, kubeFix(e, err.Error()), "%v", err)
}

// kubeFix says what to do about a kubectl failure in an environment, from kubectl's words:
// the fix of the one table of failures that forwards use too (env.Diagnose).
func kubeFix(e *env.Environment, msg string) string {
	if _, fix := env.Diagnose(msg, where(e)); fix != "" {
		return fix
	}
	return "see kubectl's message"
}

// rbacFix is the fix for credentials that may not do what a forward does.
func rbacFix(e *env.Environment, verb, resource string) string {
	return env.ForbiddenHint(where(e), verb, resource)
}

func where(e *env.Environment) env.Where {
	return env.Where{Environment: e.Name, Context: e.Context, Namespace: e.Namespace, Deployment: e.Deployment}
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
