package clustertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rhizome-dev/rhizome/forward/internal/clustertest"
)

// cluster is shared by the package's tests, which run one after another: the fault tests change it.
var cluster *clustertest.Cluster

func TestMain(m *testing.M) {
	if os.Getenv(crashHelperEnv) != "" {
		crashHelper()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	start := time.Now()
	c, err := clustertest.Start(ctx, clustertest.Options{})
	cancel()
	if err != nil {
		// Never a skip: a missing build is a failure, and the message names the fix.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "clustertest: cluster started in %v\n", time.Since(start).Round(time.Millisecond))
	cluster = c
	code := m.Run()
	start = time.Now()
	err = c.Close()
	fmt.Fprintf(os.Stderr, "clustertest: cluster closed in %v\n", time.Since(start).Round(time.Millisecond))
	if err == nil {
		// Close must leave nothing running in this process either.
		err = goleak.Find()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func TestStartWithoutToolsNamesTheBuildStep(t *testing.T) {
	_, err := clustertest.Start(context.Background(), clustertest.Options{BinDir: t.TempDir()})
	if !errors.Is(err, clustertest.ErrToolsMissing) || !strings.Contains(err.Error(), "scripts/kube-tools") {
		t.Fatalf("Start(empty BinDir) = %v, want ErrToolsMissing naming scripts/kube-tools", err)
	}
}

func TestKubeconfigHasTheGKEContext(t *testing.T) {
	if got := strings.TrimSpace(mustKubectl(t, "config", "current-context")); got != cluster.Context {
		t.Errorf("current-context = %q, want %q", got, cluster.Context)
	}
	if got := strings.TrimSpace(mustKubectl(t, "get", "deploy", cluster.Deployment, "-o", "name")); got != "deployment.apps/"+cluster.Deployment {
		t.Errorf("kubectl get deploy = %q, want deployment.apps/%s", got, cluster.Deployment)
	}
	if got := strings.TrimSpace(mustKubectl(t, "get", "pod", cluster.Pod(), "-o", "jsonpath={.status.phase}")); got != "Running" {
		t.Errorf("pod phase = %q, want Running", got)
	}
}

// listening matches the line as `kubectl logs` prints it (the CRI prefix stripped): Cloud SQL
// Auth Proxy v2's log time, then the instance and the pod port.
func listening() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[` + regexp.QuoteMeta(cluster.Instance) +
		`\] Listening on 127\.0\.0\.1:` + strconv.Itoa(cluster.PodPort) + `$`)
}

func TestExecStartsTheProxyOnce(t *testing.T) {
	connect(t)
	connect(t)
	logs := mustKubectl(t, "logs", "deploy/"+cluster.Deployment)
	if n := len(listening().FindAllString(logs, -1)); n != 1 {
		t.Fatalf("kubectl logs has %d Listening lines after two connects, want 1:\n%s", n, logs)
	}
	if out, err := kubectl(t, "exec", "deploy/"+cluster.Deployment, "--", cluster.ConnectCommand, "nope:us-central1:missing"); err == nil {
		t.Errorf("connect to an unknown instance succeeded:\n%s", out)
	}
}

func TestPortForwardReachesMariaDB(t *testing.T) {
	connect(t)
	pf := startPortForward(t)
	mustSelectOne(t, pf.port)
	mustSelectOne(t, pf.port) // a second session through the same forward
}

func TestReplacePod(t *testing.T) {
	connect(t)
	old := startPortForward(t)
	mustSelectOne(t, old.port)
	oldPod := cluster.Pod()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.ReplacePod(ctx); err != nil {
		t.Fatal(err)
	}
	if cluster.Pod() == oldPod {
		t.Fatalf("ReplacePod kept pod %s", oldPod)
	}
	if !old.exited(15 * time.Second) {
		t.Errorf("port-forward to the deleted pod still runs:\n%s", old.output())
	}
	if logs := mustKubectl(t, "logs", "deploy/"+cluster.Deployment); listening().MatchString(logs) {
		t.Errorf("the new pod's log says the proxy listens before any connect:\n%s", logs)
	}
	early := startPortForward(t)
	if got, err := selectOne(early.port); err == nil {
		t.Errorf("SELECT 1 reached MariaDB before the proxy was started in the new pod: %q", got)
	}

	connect(t)
	mustSelectOne(t, startPortForward(t).port)
}

func TestBreakAndRestoreTarget(t *testing.T) {
	connect(t)
	mustSelectOne(t, startPortForward(t).port)

	if err := cluster.BreakTarget(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.RestoreTarget() })
	if got, err := selectOne(startPortForward(t).port); err == nil {
		t.Fatalf("SELECT 1 through a broken target = %q, want an error", got)
	}

	if err := cluster.RestoreTarget(); err != nil {
		t.Fatal(err)
	}
	mustSelectOne(t, startPortForward(t).port)
}

func TestStopAndStartKWOK(t *testing.T) {
	connect(t)
	// Over SPDY kubectl notices the lost kubelet at once; over WebSockets only its heartbeat
	// does, about 10 s later (TestReplacePod waits for that).
	open := startPortForward(t, "KUBECTL_PORT_FORWARD_WEBSOCKETS=false")
	mustSelectOne(t, open.port)
	if err := cluster.StopKWOK(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cluster.StartKWOK(ctx)
	})
	if out, err := kubectl(t, "exec", "deploy/"+cluster.Deployment, "--", cluster.ConnectCommand, cluster.Instance); err == nil {
		t.Errorf("kubectl exec worked with KWOK stopped:\n%s", out)
	}
	if out, err := kubectl(t, "logs", "deploy/"+cluster.Deployment); err == nil {
		t.Errorf("kubectl logs worked with KWOK stopped:\n%s", out)
	}
	if !open.exited(15 * time.Second) {
		t.Errorf("port-forward still runs with KWOK stopped:\n%s", open.output())
	}

	if err := cluster.StartKWOK(ctx); err != nil {
		t.Fatal(err)
	}
	connect(t)
	if logs := mustKubectl(t, "logs", "deploy/"+cluster.Deployment); !listening().MatchString(logs) {
		t.Errorf("kubectl logs after restarting KWOK lacks the Listening line:\n%s", logs)
	}
	mustSelectOne(t, startPortForward(t).port)
}

// TestPortForwardReachesPostgres: the connection script starts a second proxy for the
// PostgreSQL instance, announced on its own pod port, and the real psql answers through it.
func TestPortForwardReachesPostgres(t *testing.T) {
	connect(t, cluster.PGInstance)
	logs := mustKubectl(t, "logs", "deploy/"+cluster.Deployment)
	if !strings.Contains(logs, "["+cluster.PGInstance+"] Listening on 127.0.0.1:"+strconv.Itoa(cluster.PGPodPort)) {
		t.Fatalf("kubectl logs lacks the Postgres proxy's Listening line:\n%s", logs)
	}
	pf := startPortForwardTo(t, cluster.PGPodPort)
	for range 2 { // a second session through the same forward
		out, err := exec.Command("psql", "-X", "-w", "-At", "-h", "127.0.0.1", "-p", pf.port,
			"-U", cluster.Postgres.User, "-d", cluster.Postgres.Database, "-c", "SELECT 1").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("psql SELECT 1 through 127.0.0.1:%s = %q, %v; want 1", pf.port, out, err)
		}
	}
}
