package clustertest_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests drive the cluster the way rhizome does: with the real kubectl and mariadb client.

// kubectl runs kubectl against the cluster's context and namespace and returns its combined
// output and error.
func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"--context", cluster.Context, "-n", cluster.Namespace}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), cluster.Env()...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustKubectl is kubectl that fails the test on error.
func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectl(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// connect execs the connection script in the Deployment's pod, as rhizome's forward does, for
// the MySQL instance unless another is named.
func connect(t *testing.T, instance ...string) {
	t.Helper()
	if len(instance) == 0 {
		instance = []string{cluster.Instance}
	}
	mustKubectl(t, "exec", "deploy/"+cluster.Deployment, "--", cluster.ConnectCommand, instance[0])
}

// portForward is a running `kubectl port-forward deploy/D :PodPort`.
type portForward struct {
	port string // the local port kubectl picked
	cmd  *exec.Cmd
	done chan struct{} // closed when kubectl has exited

	mu  sync.Mutex
	out bytes.Buffer
}

var forwardingRE = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)

// startPortForward runs kubectl port-forward to the MySQL proxy's pod port, with env added to
// its environment, and waits for its banner. The test's cleanup kills it.
func startPortForward(t *testing.T, env ...string) *portForward {
	t.Helper()
	return startPortForwardTo(t, cluster.PodPort, env...)
}

// startPortForwardTo is startPortForward to pod port podPort.
func startPortForwardTo(t *testing.T, podPort int, env ...string) *portForward {
	t.Helper()
	args := []string{"--context", cluster.Context, "-n", cluster.Namespace,
		"port-forward", "deploy/" + cluster.Deployment, ":" + strconv.Itoa(podPort)}
	pf := &portForward{cmd: exec.Command("kubectl", args...), done: make(chan struct{})}
	pf.cmd.Env = append(append(os.Environ(), cluster.Env()...), env...)
	stdout, err := pf.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	pf.cmd.Stderr = &lockedWriter{pf: pf}
	if err := pf.cmd.Start(); err != nil {
		t.Fatalf("starting kubectl port-forward: %v", err)
	}
	ports := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			pf.mu.Lock()
			pf.out.WriteString(line + "\n")
			pf.mu.Unlock()
			if m := forwardingRE.FindStringSubmatch(line); m != nil {
				select {
				case ports <- m[1]:
				default:
				}
			}
		}
		pf.cmd.Wait()
		close(pf.done)
	}()
	t.Cleanup(func() {
		pf.cmd.Process.Kill()
		<-pf.done
	})
	select {
	case pf.port = <-ports:
		return pf
	case <-pf.done:
		t.Fatalf("kubectl port-forward exited before forwarding:\n%s", pf.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("kubectl port-forward did not forward within 30s:\n%s", pf.output())
	}
	return nil
}

func (pf *portForward) output() string {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return pf.out.String()
}

// exited reports whether kubectl ends within d.
func (pf *portForward) exited(d time.Duration) bool {
	select {
	case <-pf.done:
		return true
	case <-time.After(d):
		return false
	}
}

type lockedWriter struct{ pf *portForward }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.pf.mu.Lock()
	defer w.pf.mu.Unlock()
	return w.pf.out.Write(p)
}

// selectOne runs `SELECT 1` with the mariadb client through localhost:port.
func selectOne(port string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := cluster.MySQL
	cmd := exec.CommandContext(ctx, "mariadb", "--no-defaults", "--protocol=tcp",
		"-h", "127.0.0.1", "-P", port, "-u", m.User, "-p"+m.Password, "-D", m.Database,
		"--connect-timeout=10", "-N", "-B", "-e", "SELECT 1")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// mustSelectOne fails the test unless SELECT 1 through port answers 1.
func mustSelectOne(t *testing.T, port string) {
	t.Helper()
	got, err := selectOne(port)
	if err != nil || got != "1" {
		t.Fatalf("SELECT 1 through 127.0.0.1:%s = %q, %v; want 1", port, got, err)
	}
}
