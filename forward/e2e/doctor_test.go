package e2e_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/clustertest"
)

// doctorBound is how long one doctor run may take at most: its kubectl checks run in parallel,
// each bounded by 10 s. Past it, the run is killed and the test fails as hung.
const doctorBound = 30 * time.Second

type doctorCheck struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// doctor runs `rhizome doctor --json ARGS…` and returns its checks by name and its exit code.
func (u *user) doctor(args ...string) (map[string]doctorCheck, int) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), doctorBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"doctor", "--json"}, args...)...)
	cmd.Env = u.env
	out, err := cmd.Output()
	if ctx.Err() != nil {
		u.t.Fatalf("rhizome doctor %s did not end within %v", strings.Join(args, " "), doctorBound)
	}
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		u.t.Fatalf("rhizome doctor: %v", err)
	}
	var r struct {
		OK     bool          `json:"ok"`
		Checks []doctorCheck `json:"checks"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		u.t.Fatalf("rhizome doctor --json printed %q: %v", out, err)
	}
	if r.OK != (code == 0) {
		u.t.Errorf("doctor says ok=%v but exited %d", r.OK, code)
	}
	checks := map[string]doctorCheck{}
	for _, c := range r.Checks {
		checks[c.Check] = c
	}
	return checks, code
}

// wantCheck fails the test unless the check is there, passed or failed as wanted, with a fix
// containing fix when it failed.
func wantCheck(t *testing.T, checks map[string]doctorCheck, name string, ok bool, fix string) {
	t.Helper()
	c, found := checks[name]
	switch {
	case !found:
		t.Errorf("no %q check in %v", name, checks)
	case c.OK != ok:
		t.Errorf("check %q: ok=%v (%s; fix: %s), want ok=%v", name, c.OK, c.Detail, c.Fix, ok)
	case !ok && !strings.Contains(c.Fix, fix):
		t.Errorf("check %q: fix %q, want it to contain %q", name, c.Fix, fix)
	}
}

func TestDoctorAllGood(t *testing.T) {
	u := newUser(t, 33406)
	if _, stderr, err := u.rhizome("agent"); err != nil {
		t.Fatalf("rhizome agent = %v: %s", err, stderr)
	}
	checks, code := u.doctor("na-prod")
	for _, name := range []string{"kubectl", "config", "na-prod databases", "na-prod context", "na-prod pods/portforward", "na-prod pods/exec", "na-prod deployment", "socket directory", "agent", "agent kubectl"} {
		wantCheck(t, checks, name, true, "")
	}
	if code != 0 || len(checks) != 10 {
		t.Errorf("doctor na-prod exited %d with %d checks, want 0 and 10: %v", code, len(checks), checks)
	}
	if got := checks["na-prod databases"].Detail; got != "bookkeeper (MySQL, port 33406)" {
		t.Errorf("doctor's na-prod databases = %q, want bookkeeper (MySQL, port 33406)", got)
	}

	// The same, as a person reads it: one ✓ line per check.
	out, _, err := u.rhizome("doctor", "na-prod")
	if err != nil {
		t.Fatalf("rhizome doctor na-prod = %v:\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "✓ ") {
			t.Errorf("doctor line %q, want ✓", line)
		}
	}

	// The other environment of the user's config names a deployment the cluster lacks.
	checks, code = u.doctor("nowhere")
	wantCheck(t, checks, "nowhere deployment", false, "deployment no-such-deployment does not exist in namespace gke-cloudsql-access")
	wantCheck(t, checks, "nowhere pods/portforward", true, "")
	if code != 1 {
		t.Errorf("doctor nowhere exited %d, want 1", code)
	}
}

func TestDoctorContextMissing(t *testing.T) {
	path := kubeconfigVariant(t, func(cfg string) string {
		return strings.ReplaceAll(cfg, `"`+cluster.Context+`"`, `"some-other-cluster"`)
	})
	u := newUser(t, 33416, "KUBECONFIG="+path)
	checks, code := u.doctor("na-prod")
	wantCheck(t, checks, "na-prod context", false,
		"gcloud container clusters get-credentials na-prod-us-central1-cluster --location us-central1 --project clover-prod-kubernetes")
	if c := checks["na-prod context"]; !strings.Contains(c.Detail, "some-other-cluster") {
		t.Errorf("context check says %q, want it to name the contexts there are", c.Detail)
	}
	if _, ok := checks["na-prod pods/portforward"]; ok {
		t.Errorf("doctor asked the API server with a context it does not have: %v", checks)
	}
	if code != 1 {
		t.Errorf("doctor exited %d, want 1", code)
	}
}

func TestDoctorForbiddenPortForward(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path, err := cluster.UserKubeconfig(ctx, "no-forward", []clustertest.Rule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	u := newUser(t, 33426, "KUBECONFIG="+path)
	checks, code := u.doctor("na-prod")
	wantCheck(t, checks, "na-prod context", true, "")
	wantCheck(t, checks, "na-prod pods/portforward", false, "may not create pods/portforward in namespace gke-cloudsql-access: ask a cluster admin for a Role")
	wantCheck(t, checks, "na-prod pods/exec", true, "")
	wantCheck(t, checks, "na-prod deployment", true, "")
	if code != 1 {
		t.Errorf("doctor exited %d, want 1", code)
	}
}

// TestDoctorCredentialsRejected: a kubeconfig whose token the API server does not know.
func TestDoctorCredentialsRejected(t *testing.T) {
	path := kubeconfigVariant(t, func(cfg string) string {
		var v map[string]any
		if err := json.Unmarshal([]byte(cfg), &v); err != nil {
			panic(err)
		}
		for _, u := range v["users"].([]any) {
			u.(map[string]any)["user"] = map[string]any{"token": "expired-or-never-valid"}
		}
		out, _ := json.Marshal(v)
		return string(out)
	})
	u := newUser(t, 33466, "KUBECONFIG="+path)
	checks, _ := u.doctor("na-prod")
	for _, name := range []string{"na-prod pods/portforward", "na-prod pods/exec", "na-prod deployment"} {
		wantCheck(t, checks, name, false, "log in again: gcloud auth login")
	}
}

// TestDoctorAPIServerDown points the context at an API server that is not there: a closed
// port (refused at once) and one that takes connections and never answers (a hung or
// half-dead server, the case that must not hang doctor).
func TestDoctorAPIServerDown(t *testing.T) {
	closed := freeAddr(t)
	hung := silentListener(t)
	for _, tt := range []struct{ name, addr string }{{"refused", closed}, {"silent", hung}} {
		t.Run(tt.name, func(t *testing.T) {
			path := kubeconfigVariant(t, func(cfg string) string {
				return serverRE(cfg, "https://"+tt.addr)
			})
			u := newUser(t, 33436, "KUBECONFIG="+path)
			checks, code := u.doctor("na-prod")
			wantCheck(t, checks, "na-prod context", true, "")
			for _, name := range []string{"na-prod pods/portforward", "na-prod pods/exec", "na-prod deployment"} {
				wantCheck(t, checks, name, false, "does not answer: check your network or VPN, and that the cluster is up")
			}
			if code != 1 {
				t.Errorf("doctor exited %d, want 1", code)
			}
		})
	}
}

// kubeconfigVariant writes the cluster's kubeconfig, changed by edit, to a file of the test.
func kubeconfigVariant(t *testing.T, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(edit(string(data))), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serverRE replaces the API server's URL in a kubeconfig written by clustertest (JSON).
func serverRE(cfg, server string) string {
	var v map[string]any
	if err := json.Unmarshal([]byte(cfg), &v); err != nil {
		panic(err)
	}
	for _, c := range v["clusters"].([]any) {
		c.(map[string]any)["cluster"].(map[string]any)["server"] = server
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// freeAddr returns a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentListener accepts connections and never writes a byte, until the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
