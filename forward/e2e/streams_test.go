package e2e_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOneResetConnectionLeavesTheOthers has two clients on one forward: while one runs a long
// query, the in-pod side of the other ends with a TCP reset (kubectl port-forward dies of
// that, with every connection it carries: kubernetes#111825). Only the reset one ends; the
// long query completes, and new connections work.
func TestOneResetConnectionLeavesTheOthers(t *testing.T) {
	u := newUser(t, 33616)
	port := portOf(u.mustForward())
	long := make(chan error, 1)
	go func() {
		out, err := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "-h", "127.0.0.1", "-P", port,
			"-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, "-N", "-e", "SELECT SLEEP(3), 'done'").CombinedOutput()
		if err == nil && !strings.Contains(string(out), "done") {
			err = fmt.Errorf("printed %q", out)
		}
		long <- err
	}()
	time.Sleep(time.Second) // the long query is under way

	doomed, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer doomed.Close()
	// The whole greeting (its in-pod side is now the newest connection); then the server
	// waits for the client, so the next read ends only with the connection.
	header := make([]byte, 4)
	if _, err := io.ReadFull(doomed, header); err != nil {
		t.Fatalf("the second client's greeting: %v", err)
	}
	if _, err := io.ReadFull(doomed, make([]byte, int(header[0])|int(header[1])<<8|int(header[2])<<16)); err != nil {
		t.Fatalf("the second client's greeting: %v", err)
	}
	if err := cluster.ResetLatestConnection(); err != nil {
		t.Fatal(err)
	}
	// The client answers the greeting, as every client does; its in-pod side is gone.
	_, _ = doomed.Write([]byte{1, 0, 0, 1, 0})
	_ = doomed.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := doomed.Read(make([]byte, 4096)); err == nil || os.IsTimeout(err) {
		t.Errorf("the connection reset in the pod: read %d bytes, %v; want it ended", n, err)
	}
	if err := <-long; err != nil {
		t.Errorf("the long query on the other connection: %v", err)
	}
	if err := selectOne(port); err != nil {
		t.Errorf("a new connection after the reset: %v", err)
	}
	if p := u.ps().Running[0]; p.State != "ready" || p.Restarts != 0 {
		t.Errorf("ps = %+v, want the forward ready, never restarted", p)
	}
}

// abortedConnects reads MariaDB's count of connections that ended before logging in.
func abortedConnects(t *testing.T) int {
	t.Helper()
	host, port, _ := net.SplitHostPort(cluster.MySQL.Addr)
	out, err := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "-h", host, "-P", port,
		"-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, "-N", "-e", "SHOW GLOBAL STATUS LIKE 'Aborted_connects'").CombinedOutput()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 {
		t.Fatalf("SHOW GLOBAL STATUS = %q, %v", out, err)
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// TestIdleForwardLeavesTheDatabaseAlone keeps a forward idle for a minute with its health
// checked every second: MariaDB counts no aborted connection (a greeting-only check would
// count one per check, and MySQL blocks a host after max_connect_errors of them). It runs
// beside the other tests.
func TestIdleForwardLeavesTheDatabaseAlone(t *testing.T) {
	t.Parallel()
	u := newUser(t, 33626) // RHIZOME_HEALTH_INTERVAL=1s
	before := abortedConnects(t)
	port := portOf(u.mustForward())
	if err := selectOne(port); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute)
	// Sixty health checks count none. The readiness check reads the greeting and hangs up, which
	// counts one; MariaDB counts some a moment late, and earlier tests' readiness checks may
	// land in this minute too: a few, never one per check.
	if after := abortedConnects(t); after-before > 5 {
		t.Errorf("Aborted_connects went from %d to %d over a minute of an idle forward", before, after)
	}
	if p := u.ps().Running[0]; p.State != "ready" || p.Restarts != 0 {
		t.Errorf("ps after a minute idle = %+v, want ready, never restarted", p)
	}
}

// TestPodPortNeedsNoConnectionCommand configures a database whose proxy always listens on a
// pod port (a sidecar): the forward streams there without running anything in the pod, so a
// connection command that would fail is never run.
func TestPodPortNeedsNoConnectionCommand(t *testing.T) {
	// The sidecar: the cluster's proxy, started once by hand.
	if out, err := kubectl("exec", "deploy/"+cluster.Deployment, "--", cluster.ConnectCommand, cluster.Instance).CombinedOutput(); err != nil {
		t.Fatalf("starting the in-pod proxy: %v: %s", err, out)
	}
	u := newUser(t, 33636)
	u.addConfig(fmt.Sprintf(`environment sidecar
    context %s
    namespace %s
    deployment %s
    connect-command /bin/false
    database bookkeeper
        instance %s
        port 33637
        pod-port %d
`, cluster.Context, cluster.Namespace, cluster.Deployment, cluster.Instance, cluster.PodPort))
	out, stderr, err := u.rhizome("forward", "sidecar", "bookkeeper")
	if err != nil {
		t.Fatalf("forward sidecar bookkeeper = %v: %s", err, stderr)
	}
	if err := selectOne(portOf(out)); err != nil {
		t.Fatal(err)
	}
	logs, _, _ := u.rhizome("logs", "sidecar/bookkeeper")
	if strings.Contains(logs, "starting the proxy") || !strings.Contains(logs, fmt.Sprintf("port %d", cluster.PodPort)) {
		t.Errorf("logs of a pod-port forward:\n%s\nwant no connection command, and the pod port", logs)
	}
	if envs, _, _ := u.rhizome("envs", "--wide"); !strings.Contains(envs, fmt.Sprintf("pod port %d", cluster.PodPort)) {
		t.Errorf("envs:\n%s\nwant the pod port shown", envs)
	}
	if doctor, _, _ := u.rhizome("doctor", "sidecar"); !strings.Contains(doctor, fmt.Sprintf("pod port %d: no connection command", cluster.PodPort)) {
		t.Errorf("doctor sidecar:\n%s\nwant the pod port shown", doctor)
	}
}

// TestOneProxyPerContext: every forward to a context shares one kubectl proxy, which ends
// after the last of them; an agent killed with SIGKILL leaves no kubectl behind, and the next
// agent removes the socket its proxy left.
func TestOneProxyPerContext(t *testing.T) {
	u := newUser(t, 33646)
	u.addLedger(33648)
	u.mustForward()
	if _, stderr, err := u.rhizome("forward", "na-prod", "ledger"); err != nil {
		t.Fatalf("forward na-prod ledger: %v: %s", err, stderr)
	}
	if n := u.kubectls("proxy --unix-socket"); n != 1 {
		t.Errorf("%d kubectl proxies for two forwards to one context, want 1", n)
	}
	for _, name := range []string{"na-prod/bookkeeper", "na-prod/ledger"} {
		if _, stderr, err := u.rhizome("stop", name); err != nil {
			t.Fatalf("stop %s: %v: %s", name, err, stderr)
		}
	}
	eventually(t, 30*time.Second, "the kubectl proxy gone after the last forward", func() error {
		if n := u.kubectls("proxy --unix-socket"); n != 0 {
			return fmt.Errorf("%d kubectl proxies", n)
		}
		if ps := u.psAll(); ps.Count != 0 {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})

	u.mustForward()
	agent := u.agentPID()
	proxies := u.kubectlPIDs("proxy --unix-socket")
	if len(proxies) != 1 {
		t.Fatalf("kubectl proxies %v, want 1", proxies)
	}
	runDir := u.getenv("XDG_RUNTIME_DIR") + "/rhizome/agent.sock.kube"
	sockets, _ := filepath.Glob(runDir + "/k-*.sock")
	if len(sockets) != 1 {
		t.Fatalf("proxy sockets %v in %s, want 1", sockets, runDir)
	}
	if err := exec.Command("kill", "-9", strconv.Itoa(agent)).Run(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the kubectl proxy gone with the agent", func() error {
		if err := exec.Command("kill", "-0", strconv.Itoa(proxies[0])).Run(); err == nil {
			return fmt.Errorf("kubectl proxy %d still runs", proxies[0])
		}
		return nil
	})
	if _, err := os.Stat(sockets[0]); err != nil { // a kubectl killed by SIGKILL cannot remove it
		t.Fatalf("the killed proxy's socket %s is gone before a new agent started: %v", sockets[0], err)
	}
	u.agentPID() // a new agent
	if _, err := os.Stat(sockets[0]); !os.IsNotExist(err) {
		t.Errorf("the socket %s of the killed agent's proxy is still there after a new agent started (%v)", sockets[0], err)
	}
}
