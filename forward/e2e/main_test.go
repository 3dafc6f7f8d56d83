package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/clustertest"
)

// These tests drive `rhizome forward` as a user would — the real binary, a real agent on a
// real socket, the real kubectl — against a real control plane (kube-apiserver, etcd, KWOK)
// and a real MariaDB, checked with the real mariadb client.

var (
	cluster *clustertest.Cluster
	binary  string // the rhizome binary under test
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rhizome-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "rhizome")
	// As `just build` builds what users run (the benchmarks time whole rhizome processes).
	build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", binary, "../../")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building rhizome:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cluster, err = clustertest.Start(ctx, clustertest.Options{})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cluster.Close()
	return m.Run()
}

// user is one person at a shell: private XDG dirs, an environment config pointing na-prod's
// connection command at the cluster's script, and the cluster's KUBECONFIG.
type user struct {
	t      testing.TB
	config string // the config file
	env    []string
}

// addConfig appends text to the user's config file.
func (u *user) addConfig(text string) {
	u.t.Helper()
	f, err := os.OpenFile(u.config, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString(text)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		u.t.Fatal(err)
	}
}

// newUser sets up a user whose na-prod/bookkeeper forwards to port. Its agent is killed when
// the test ends.
func newUser(t testing.TB, port int, extraEnv ...string) *user {
	t.Helper()
	return newUserOn(t, cluster, port, extraEnv...)
}

// newUserOn is newUser for a cluster of the test's own.
func newUserOn(t testing.TB, cluster *clustertest.Cluster, port int, extraEnv ...string) *user {
	t.Helper()
	dir, err := os.MkdirTemp("", "rzf")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"run", "config/rhizome"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	config := fmt.Sprintf(`environment na-prod
    connect-command %s
    database bookkeeper
        port %d
environment nowhere
    context %s
    namespace gke-cloudsql-access
    deployment no-such-deployment
    connect-command %s
    database bookkeeper
        instance clover-prod-databases:us-central1:billing-bookkeeper
        port %d
`, cluster.ConnectCommand, port, cluster.Context, cluster.ConnectCommand, port+1)
	if err := os.WriteFile(filepath.Join(dir, "config/rhizome/config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	u := &user{t: t, config: filepath.Join(dir, "config/rhizome/config"), env: append(append(os.Environ(),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"RHIZOME_SOCK=",
		"RHIZOME_SIMULATE=",
		"RHIZOME_HEALTH_INTERVAL=1s",
	), cluster.Env()...)}
	u.env = append(u.env, extraEnv...)
	t.Cleanup(func() {
		u.rhizome("agent", "-k")
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "state/rhizome/agent.log"))
			t.Logf("agent log:\n%s", log)
		}
		os.RemoveAll(dir)
	})
	return u
}

// agentPID is the pid of u's agent, which it starts if none runs.
func (u *user) agentPID() int {
	u.t.Helper()
	out, _, err := u.rhizome("agent", "-s")
	m := regexp.MustCompile(`RHIZOME_AGENT_PID=(\d+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		u.t.Fatalf("rhizome agent -s = %q, %v", out, err)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// rhizome runs the binary and returns its stdout, stderr and error.
func (u *user) rhizome(args ...string) (string, string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = u.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return strings.TrimSpace(stdout.String()), stderr.String(), err
}

// mustForward runs `rhizome forward na-prod bookkeeper` and returns the connection string.
func (u *user) mustForward(args ...string) string {
	u.t.Helper()
	out, stderr, err := u.rhizome(append([]string{"forward"}, append(args, "na-prod", "bookkeeper")...)...)
	if err != nil {
		u.t.Fatalf("rhizome forward = %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	return out
}

// selectOne runs SELECT 1 with the mariadb client through a handle's port.
func selectOne(port string) error {
	cmd := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "--connect-timeout=5",
		"-h", "127.0.0.1", "-P", port, "-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password,
		cluster.MySQL.Database, "-N", "-e", "SELECT 1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadb: %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "1" {
		return fmt.Errorf("SELECT 1 returned %q", out)
	}
	return nil
}

// eventually polls cond until it returns nil, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < timeout {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
	return 0
}

func portOf(handle string) string {
	return handle[strings.LastIndexByte(handle, ':')+1:]
}
