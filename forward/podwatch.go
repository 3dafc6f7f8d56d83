package forward

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// podWait bounds how long a reconnect waits for a Running pod before it counts as a failed
// attempt (and backs off, as any other).
const podWait = 30 * time.Second

// errNoPodRunning says that no pod of the deployment became Running within podWait.
var errNoPodRunning = errors.New("no pod of the deployment is running")

// podWatchColumns is what the watch prints per pod and event: name, phase, deletion time.
const podWatchColumns = "custom-columns=NAME:.metadata.name,PHASE:.status.phase,DELETING:.metadata.deletionTimestamp"

// waitPodRunning returns once a pod of the deployment is Running and not being deleted, as
// the API server tells a watch: a pod replaced under a forward is noticed the moment the new
// one runs, rather than at the end of a backoff. A watch that cannot run (the API server does
// not answer, the user may not list pods) is no failure of its own: the attempt goes on and
// kubectl's own commands say what is wrong.
func (c *chain) waitPodRunning(ctx context.Context, logf func(string, ...any)) error {
	selector, err := c.podSelector(ctx)
	if err != nil {
		logf("not watching the pod: %v", err)
		return nil
	}
	watchCtx, cancel := context.WithTimeout(ctx, podWait)
	defer cancel()
	argv := c.k.argv("get", "pods", "--selector="+selector, "--watch", "--no-headers", "--output="+podWatchColumns)
	cmd := exec.CommandContext(watchCtx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), c.k.env()...)
	cmd.SysProcAttr = dieWithAgent()
	cmd.WaitDelay = time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		logf("not watching the pod: %v", err)
		return nil
	}
	running, lines := "", 0
	for sc := bufio.NewScanner(out); sc.Scan(); lines++ {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[1] == "Running" && f[2] == "<none>" {
			running = f[0]
			break
		}
	}
	timedOut := errors.Is(watchCtx.Err(), context.DeadlineExceeded)
	cancel()
	_ = cmd.Wait()
	switch {
	case running != "" && lines > 0: // not the first pod the watch listed
		logf("pod %s is running", running)
		return nil
	case running != "":
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case timedOut && lines == 0:
		// Not even the list came: the API server hangs, it is not that no pod runs.
		return fmt.Errorf("kubectl get pods --watch: no answer within %v", podWait)
	case timedOut:
		return fmt.Errorf("%w: waited %v for a Running pod of %s", errNoPodRunning, podWait, c.deployment())
	}
	logf("not watching the pod: kubectl get pods --watch: %s", kubectlWords(stderr.String()))
	return nil
}

// podSelector returns the deployment's pod selector (k=v,…), asked of the API server once per
// forward: a Deployment's selector cannot change.
func (c *chain) podSelector(ctx context.Context) (string, error) {
	if c.selector != "" {
		return c.selector, nil
	}
	out, err := c.k.run(ctx, "get", c.deployment(), "--output=jsonpath={.spec.selector.matchLabels}")
	if err != nil {
		return "", err
	}
	var labels map[string]string
	if err := json.Unmarshal([]byte(out), &labels); err != nil || len(labels) == 0 {
		return "", fmt.Errorf("%s has no matchLabels selector (%q)", c.deployment(), out)
	}
	var sel []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		sel = append(sel, k+"="+labels[k])
	}
	c.selector = strings.Join(sel, ",")
	return c.selector, nil
}
