package agent

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestForwardCrashLoopEndsFailed runs forwards whose kubectl always fails, in each step of the
// chain, on a first start: a failure that retrying cannot fix (rejected credentials) ends the
// forward at once with the fix; a transient one (the pod not running yet) is retried with
// backoff for as long as the client waits. The forward call returns kubectl's own words, and
// ps keeps the forward as failed, with the reason and its last lines, until it is stopped.
func TestForwardCrashLoopEndsFailed(t *testing.T) {
	tests := []struct {
		name    string
		kubectl string // sh body; $2 … are kubectl's arguments after --context=C
		want    string // in the error, the reason and the last lines
		retried bool   // a backoff in the last lines
	}{
		{"logs fails", `echo "error: You must be logged in to the server (Unauthorized)" >&2; exit 1`,
			"You must be logged in to the server (Unauthorized)", false},
		// kubectl proxy runs, but the API server behind it does not answer: what kubectl proxy
		// says then, for every request.
		{"API server down", `case "$2" in
proxy) sock=${3#--unix-socket=}
	body='dial tcp 127.0.0.1:6443: connect: connection refused'
	printf 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' ${#body} "$body" > "$sock.answer"
	exec socat UNIX-LISTEN:"$sock",fork SYSTEM:"cat $sock.answer" ;;
esac`, "connect: connection refused", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, kubectl := fakeKubectl(t, tt.kubectl)
			a := startAgent(t, withKubectl(kubectl))
			c := dialAgent(t, a)
			ctx := t.Context()
			_, err := c.Forward(ctx, rpc.ForwardParams{KubeContext: "ctx", KubeNamespace: "ns", KubeDeployment: "dep", SQLConnection: "proj:region:inst", LocalPort: freePort(t), Name: "crashy",
				Wait: rpc.Duration(3 * time.Second)})
			if !errors.Is(err, rpc.ErrForwardFailed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Forward() = %v, want rpc.ErrForwardFailed with %q", err, tt.want)
			}
			var p rpc.Process
			waitFor(t, "the forward to end failed", func() bool {
				ps, err := c.Ps(ctx)
				if err != nil || ps.Count != 1 {
					return false
				}
				p = ps.Running[0]
				return p.State == "failed"
			})
			if p.Name != "crashy" || p.Kind != "forward" || !strings.Contains(p.Reason, tt.want) {
				t.Errorf("ps shows %s (%s) with reason %q, want crashy (forward) with %q", p.Name, p.Kind, p.Reason, tt.want)
			}
			var last []string
			for _, l := range p.LastLines {
				last = append(last, l.Text)
			}
			all := strings.Join(last, "\n")
			t.Logf("Forward() = %v\nps: %s, reason %q, last lines:\n%s", err, p.State, p.Reason, all)
			if strings.Contains(all, "restarting in") != tt.retried || !strings.Contains(all, tt.want) {
				t.Errorf("last lines in ps:\n%s\nwant %q, and a backoff: %v", all, tt.want, tt.retried)
			}
			if b, _ := os.ReadFile(calls); !strings.Contains(string(b), "--context=ctx proxy --unix-socket=") {
				t.Errorf("kubectl calls:\n%s\nwant the context's kubectl proxy", b)
			}
			if _, err := c.Stop(ctx, rpc.StopParams{Target: "crashy"}); err != nil {
				t.Errorf("Stop(crashy) = %v", err)
			}
			if ps, _ := c.Ps(ctx); ps.Count != 0 {
				t.Errorf("Ps() after stopping the failed forward = %+v, want none", ps)
			}
		})
	}
}

// TestForwardHungKubectlTimesOut has kubectl hang, as it does when the API server stops
// answering: each step is killed after the timeout, and the forward call ends with an error
// saying so instead of waiting forever.
func TestForwardHungKubectlTimesOut(t *testing.T) {
	_, kubectl := fakeKubectl(t, `sh -c 'sleep 600'`) // a grandchild holding the pipes, as a wrapper script would
	dir := shortDir(t)
	exe, _ := os.Executable()
	a, err := Start(Config{Socket: dir + "/a.sock", Executable: exe, Kubectl: kubectl, KubectlTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = dialAgent(t, a).Forward(t.Context(), rpc.ForwardParams{KubeContext: "ctx", KubeNamespace: "ns", KubeDeployment: "dep", SQLConnection: "proj:region:inst", LocalPort: freePort(t), Name: "hung",
		Wait: rpc.Duration(2 * time.Second)})
	if !errors.Is(err, rpc.ErrForwardFailed) || !strings.Contains(err.Error(), "kubectl proxy: no answer within 300ms") {
		t.Errorf("Forward() with a hung kubectl = %v, want ErrForwardFailed saying it timed out", err)
	}
}
