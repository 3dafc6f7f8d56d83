package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podPortEntry is one remembered pod port, as the agent writes it to the state directory.
type podPortEntry struct {
	Kubeconfig string `json:"kubeconfig"`
	Context    string `json:"context"`
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	Instance   string `json:"instance"`
	Port       int    `json:"pod_port"`
}

// podPortsFile is where u's agent remembers pod ports.
func (u *user) podPortsFile() string {
	for _, kv := range u.env {
		if dir, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			return filepath.Join(dir, "rhizome", "pod-ports.json")
		}
	}
	u.t.Fatal("user without XDG_STATE_HOME")
	return ""
}

func (u *user) podPorts() []podPortEntry {
	u.t.Helper()
	b, err := os.ReadFile(u.podPortsFile())
	if err != nil {
		u.t.Fatalf("reading the remembered pod ports: %v", err)
	}
	var entries []podPortEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		u.t.Fatalf("remembered pod ports %s: %v", b, err)
	}
	return entries
}

func bookkeeperPort(port int) podPortEntry {
	return podPortEntry{cluster.Kubeconfig, cluster.Context, cluster.Namespace, cluster.Deployment, cluster.Instance, port}
}

// useConnectCommand points na-prod's connection command at path.
func (u *user) useConnectCommand(path string) {
	u.t.Helper()
	b, err := os.ReadFile(u.config)
	if err == nil {
		b = []byte(strings.Replace(string(b), "connect-command "+cluster.ConnectCommand, "connect-command "+path, 1))
		err = os.WriteFile(u.config, b, 0o600)
	}
	if err != nil {
		u.t.Fatal(err)
	}
}

// brokenConnectCommand is a connection script that always fails.
func brokenConnectCommand(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "connect-broken")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho 'the connection script is broken' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// A new agent starts the port-forward on the pod port the last one got a greeting through,
// without running the connection command: with that command broken, the forward still works.
func TestRememberedPodPortServesANewAgent(t *testing.T) {
	u := newUser(t, 33506)
	if err := selectOne(portOf(u.mustForward())); err != nil {
		t.Fatal(err)
	}
	if got, want := u.podPorts(), bookkeeperPort(cluster.PodPort); len(got) != 1 || got[0] != want {
		t.Fatalf("remembered pod ports = %+v, want [%+v]", got, want)
	}
	u.rhizome("agent", "-k")
	u.useConnectCommand(brokenConnectCommand(t))
	if err := selectOne(portOf(u.mustForward())); err != nil {
		t.Fatal(err)
	}
	logs, _, _ := u.rhizome("logs", "na-prod/bookkeeper")
	if want := fmt.Sprintf("trying the remembered pod port %d", cluster.PodPort); !strings.Contains(logs, want) || strings.Contains(logs, "starting the proxy") {
		t.Errorf("logs = %s\nwant %q and no connection command", logs, want)
	}
}

// A remembered pod port that gives no greeting is dropped for the long way (the connection
// command), and the port that did give one is remembered instead.
func TestWrongRememberedPodPortFallsBack(t *testing.T) {
	u := newUser(t, 33516)
	const wrong = 3999 // nothing listens behind it in the pod
	b, _ := json.Marshal([]podPortEntry{bookkeeperPort(wrong)})
	if err := os.MkdirAll(filepath.Dir(u.podPortsFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(u.podPortsFile(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := selectOne(portOf(u.mustForward())); err != nil {
		t.Fatal(err)
	}
	logs, _, _ := u.rhizome("logs", "na-prod/bookkeeper")
	for _, want := range []string{fmt.Sprintf("trying the remembered pod port %d", wrong), "gave no greeting", "starting the proxy"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if got, want := u.podPorts(), bookkeeperPort(cluster.PodPort); len(got) != 1 || got[0] != want {
		t.Errorf("remembered pod ports = %+v, want [%+v]", got, want)
	}
	if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "ready" {
		t.Errorf("ps = %+v, want one ready forward", ps)
	}
}

// When the in-pod proxy dies and the pod stays, the forward notices (its health check, or a
// client's connection that the pod refused), runs the connection command again, which starts
// the proxy, and the same handle answers.
func TestProxyDiedUnderLiveForward(t *testing.T) {
	u := newUser(t, 33526)
	handle := u.mustForward()
	if err := selectOne(portOf(handle)); err != nil {
		t.Fatal(err)
	}
	if err := cluster.StopProxies(); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 60*time.Second, "SELECT 1 after the proxy died", func() error { return selectOne(portOf(handle)) })
	t.Logf("the same handle worked again %v after the proxy died", took.Round(10*time.Millisecond))
	logs, _, _ := u.rhizome("logs", "na-prod/bookkeeper")
	if n := strings.Count(logs, "starting the proxy"); n < 2 {
		t.Errorf("the connection command ran %d times, want again after the proxy died:\n%s", n, logs)
	}
	if again := u.mustForward(); again != handle {
		t.Errorf("forward after recovery = %q, want the same %q", again, handle)
	}
}
