package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// psResult is what ps --json prints: the wire contract's type.
type psResult = rpc.PsResult

// ps is what ps --json says of u's forwards, leaving out the kubectl proxies under them.
func (u *user) ps() psResult {
	u.t.Helper()
	r := u.psAll()
	r.Running = forwardRows(r)
	r.Count = len(r.Running)
	return r
}

// psAll is what ps --json says, every row.
func (u *user) psAll() psResult {
	u.t.Helper()
	out, stderr, err := u.rhizome("ps", "--json")
	if err != nil {
		u.t.Fatalf("rhizome ps = %v: %s", err, stderr)
	}
	var r psResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		u.t.Fatalf("ps --json printed %q: %v", out, err)
	}
	return r
}

// kubectls counts the kubectl children of u's agent whose command line matches pattern.
func (u *user) kubectls(pattern string) int {
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(u.agentPID()), "-f", "kubectl .*"+pattern).Output()
	return len(strings.Fields(string(out)))
}

// kubectlPIDs returns the pids of the kubectl children of u's agent whose command line
// matches pattern.
func (u *user) kubectlPIDs(pattern string) []int {
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(u.agentPID()), "-f", "kubectl .*"+pattern).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// getenv is u's value of an environment variable, the last one set.
func (u *user) getenv(name string) string {
	v := ""
	for _, kv := range u.env {
		if val, ok := strings.CutPrefix(kv, name+"="); ok {
			v = val
		}
	}
	return v
}

// forwardRows returns ps's rows of forwards (not the kubectl proxies).
func forwardRows(r psResult) []rpc.Process {
	var rows []rpc.Process
	for _, row := range r.Running {
		if row.Kind != "kube-proxy" {
			rows = append(rows, row)
		}
	}
	return rows
}

func TestForwardFirstReuseAndConcurrent(t *testing.T) {
	u := newUser(t, 33306)
	handle := u.mustForward()
	if handle != "mysql://127.0.0.1:33306" {
		t.Fatalf("rhizome forward = %q, want mysql://127.0.0.1:33306", handle)
	}
	if err := selectOne("33306"); err != nil {
		t.Fatalf("SELECT 1 through the handle: %v", err)
	}

	// Asked again, and by eight clients at once: the same handle, one port-forward.
	if again := u.mustForward(); again != handle {
		t.Errorf("second forward = %q, want %q", again, handle)
	}
	var wg sync.WaitGroup
	handles := make([]string, 8)
	for i := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _, _ := u.rhizome("forward", "na-prod", "bookkeeper")
			handles[i] = out
		}()
	}
	wg.Wait()
	for i, h := range handles {
		if h != handle {
			t.Errorf("concurrent forward %d = %q, want %q", i, h, handle)
		}
	}
	// The agent speaks port-forward itself, through one kubectl proxy for the context.
	if n, pf := u.kubectls("proxy --unix-socket"), u.kubectls("port-forward"); n != 1 || pf != 0 {
		t.Errorf("%d kubectl proxy and %d kubectl port-forward processes, want 1 and none", n, pf)
	}
	ps := u.psAll()
	if rows := forwardRows(ps); len(rows) != 1 || rows[0].Name != "na-prod/bookkeeper" || rows[0].State != "ready" || ps.Count != 2 {
		t.Errorf("ps = %+v, want one ready na-prod/bookkeeper and its context's kubectl proxy", ps)
	}

	// --json and --exec work on the same forward.
	out, _, err := u.rhizome("forward", "--json", "na-prod", "bookkeeper")
	if err != nil || !strings.Contains(out, `"local_port": 33306`) || !strings.Contains(out, `"sql_connection": "clover-prod-databases:us-central1:billing-bookkeeper"`) {
		t.Errorf("forward --json = %s, %v", out, err)
	}
	out, _, err = u.rhizome("forward", "--exec", "na-prod", "bookkeeper", "--", "sh", "-c", "echo $MYSQL_TCP_PORT")
	if err != nil || out != "33306" {
		t.Errorf("forward --exec printed %q, %v; want 33306", out, err)
	}
}

func TestPortConflict(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:33316")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u := newUser(t, 33316)

	_, stderr, err := u.rhizome("forward", "--port", "33316", "na-prod", "bookkeeper")
	if err == nil || !strings.Contains(stderr, "127.0.0.1:33316 is in use by another program") {
		t.Errorf("forward --port 33316 with the port busy = %v, stderr %q; want a clear error", err, stderr)
	}
	out, stderr, err := u.rhizome("forward", "na-prod", "bookkeeper")
	if err != nil || out != "mysql://127.0.0.1:33317" || !strings.Contains(stderr, "port 33316 was busy; na-prod/bookkeeper is on port 33317") {
		t.Fatalf("forward with its port busy = %q, %v, stderr %q; want the next port, said on stderr", out, err, stderr)
	}
	if err := selectOne("33317"); err != nil {
		t.Errorf("SELECT 1 through the moved port: %v", err)
	}
}

func TestPodReplacedUnderLiveForward(t *testing.T) {
	u := newUser(t, 33326)
	handle := u.mustForward()
	if err := selectOne("33326"); err != nil {
		t.Fatal(err)
	}
	if err := cluster.ReplacePod(t.Context()); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 60*time.Second, "SELECT 1 after the pod was replaced", func() error { return selectOne(portOf(handle)) })
	t.Logf("the same handle worked again %v after the new pod was Running", took.Round(10*time.Millisecond))
	eventually(t, 30*time.Second, "ps showing the restart", func() error {
		ps := u.ps()
		if ps.Count != 1 || ps.Running[0].Restarts < 1 || ps.Running[0].State != "ready" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	if again := u.mustForward(); again != handle {
		t.Errorf("forward after recovery = %q, want the same %q", again, handle)
	}
}

// A target that dies under an idle forward is not noticed by poking the database (the health
// check pings the session only): the forward stays ready until a client's connection is
// refused in the pod, which starts a reconnect at once; the client is held, and once the
// target is back the handle answers.
func TestTargetDeadThenBack(t *testing.T) {
	u := newUser(t, 33336)
	port := portOf(u.mustForward())
	if err := cluster.BreakTarget(); err != nil {
		t.Fatal(err)
	}
	restored := false
	defer func() {
		if !restored {
			cluster.RestoreTarget()
		}
	}()
	time.Sleep(3 * time.Second) // three health checks at RHIZOME_HEALTH_INTERVAL=1s
	if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "ready" || ps.Running[0].Restarts != 0 {
		t.Errorf("ps of an idle forward whose target died = %+v, want it still ready: nothing asked the database", ps)
	}
	go selectOne(port) // a client arrives: its stream is refused in the pod
	eventually(t, 30*time.Second, "ps showing reconnecting", func() error {
		ps := u.ps()
		if ps.Count != 1 || ps.Running[0].State != "reconnecting" || ps.Running[0].Reason == "" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	if err := cluster.RestoreTarget(); err != nil {
		t.Fatal(err)
	}
	restored = true
	took := eventually(t, 60*time.Second, "SELECT 1 after the target came back", func() error { return selectOne(port) })
	t.Logf("ready again %v after the target came back", took.Round(10*time.Millisecond))
	eventually(t, 30*time.Second, "ps showing ready", func() error {
		if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "ready" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
}

func TestKubectlMissing(t *testing.T) {
	u := newUser(t, 33346, "RHIZOME_KUBECTL=/nonexistent/kubectl")
	if _, _, err := u.rhizome("agent"); err != nil { // the agent reads RHIZOME_KUBECTL
		t.Fatal(err)
	}
	out, stderr, err := u.rhizome("forward", "na-prod", "bookkeeper")
	if err == nil || out != "" || !strings.Contains(stderr, "kubectl not found") || !strings.Contains(stderr, "RHIZOME_KUBECTL=/nonexistent/kubectl") {
		t.Errorf("forward without kubectl = %q, %v, stderr %q; want a clear error", out, err, stderr)
	}
	if ps := u.ps(); ps.Count != 0 {
		t.Errorf("ps after the failed forward = %+v, want nothing", ps)
	}
}

func TestMissingDeploymentFailsFast(t *testing.T) {
	u := newUser(t, 33356)
	start := time.Now()
	_, stderr, err := u.rhizome("forward", "nowhere", "bookkeeper")
	if err == nil || !strings.Contains(stderr, "failed: ") || !strings.Contains(stderr, `deployments.apps "no-such-deployment" not found`) {
		t.Errorf("forward to a missing deployment = %v, stderr %q; want kubectl's reason", err, stderr)
	}
	t.Logf("failed after %v", time.Since(start).Round(10*time.Millisecond))
	ps := u.ps()
	if ps.Count != 1 || ps.Running[0].State != "failed" || ps.Running[0].PID != 0 || !strings.Contains(ps.Running[0].Reason, "not found") {
		t.Errorf("ps after the failed forward = %+v, want it failed with kubectl's reason and no process", ps)
	}
}

func TestUnknownNames(t *testing.T) {
	u := newUser(t, 33366)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"forward", "na-dev", "bookkeeper"}, "rhizome: no environment \"na-dev\"; known: na-prod, nowhere\n"},
		{[]string{"forward", "na-prod", "ledger"}, "rhizome: environment na-prod has no database \"ledger\"; it has: bookkeeper\n"},
	} {
		args := tt.args
		if _, stderr, err := u.rhizome(args...); err == nil || stderr != tt.want {
			t.Errorf("rhizome %v = %v, stderr %q; want %q", args, err, stderr, tt.want)
		}
	}
}

// TestProgressOnTerminal runs forward under a pseudo-terminal (script(1)), where it shows the
// step it is on, and piped, where it prints nothing but the handle.
func TestProgressOnTerminal(t *testing.T) {
	u := newUser(t, 33396)
	if _, _, err := u.rhizome("agent"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("script", "-qefc", binary+" forward na-prod bookkeeper", "/dev/null")
	cmd.Env = u.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("forward on a terminal = %v: %q", err, out)
	}
	screen := string(out)
	// The steps shown depend on how far the progress stream got before the reply: the last
	// ("ready: …") can arrive after it, when the forward is quick. At least one must show.
	if !strings.HasPrefix(screen, "\r\x1b[Kna-prod/bookkeeper: ") ||
		!strings.HasSuffix(screen, "\r\x1b[Kmysql://127.0.0.1:33396\r\n") {
		t.Errorf("forward on a terminal wrote %q; want its steps, each erasing the last, then the handle on a clean line", screen)
	}
	handle, stderr, err := u.rhizome("forward", "na-prod", "bookkeeper")
	if err != nil || handle != "mysql://127.0.0.1:33396" || stderr != "" {
		t.Errorf("piped forward = %q, %v, stderr %q; want the handle and nothing else", handle, err, stderr)
	}
}
