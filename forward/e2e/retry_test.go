package e2e_test

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/clustertest"
)

// ownCluster starts a control plane for one test, for faults that would break the others.
func ownCluster(t *testing.T) *clustertest.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := clustertest.Start(ctx, clustertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestForwardOutlivesAnAPIServerOutage stops the API server under a ready forward for 90 s and
// for 5 minutes, as a closed lid or a dropped VPN does, with the default backoff (up to 30 s):
// the forward keeps reconnecting (shown in ps with the reason), keeps its port, and the same
// handle answers again by itself once the server is back, without waiting out its backoff:
// the agent asks the API server every 2 s while the forward reconnects and tries at once when
// it answers. A client that connects 5 s before the server is back is held by the door and
// answered. Each outage gets a cluster of its own and they run side by side, after the other
// tests.
func TestForwardOutlivesAnAPIServerOutage(t *testing.T) {
	t.Parallel()
	for i, outage := range []time.Duration{90 * time.Second, 5 * time.Minute} {
		t.Run(outage.String(), func(t *testing.T) {
			t.Parallel()
			c := ownCluster(t)
			u := newUserOn(t, c, 33436+10*i)
			port := portOf(u.mustForward())
			if err := selectOne(port); err != nil {
				t.Fatal(err)
			}
			if err := c.StopAPIServer(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			eventually(t, 60*time.Second, "ps showing reconnecting with a reason", func() error {
				p := u.ps().Running[0]
				if p.State != "reconnecting" || p.Reason == "" || !strings.Contains(p.Fix, "does not answer") {
					return fmt.Errorf("ps = %s, reason %q, fix %q", p.State, p.Reason, p.Fix)
				}
				return nil
			})
			for time.Since(start) < outage-5*time.Second {
				if p := u.ps().Running[0]; p.State != "reconnecting" {
					t.Fatalf("%v into the outage, ps = %+v; want it still reconnecting", time.Since(start).Round(time.Second), p)
				}
				time.Sleep(5 * time.Second)
			}
			// Asking for it meanwhile answers within --wait, and the forward keeps trying.
			_, stderr, err := u.rhizome("forward", "--wait", "2s", "na-prod", "bookkeeper")
			if err == nil || !strings.Contains(stderr, "still reconnecting after 2s (it keeps trying)") {
				t.Errorf("forward --wait 2s during the outage = %v, stderr %q", err, stderr)
			}
			p := u.ps().Running[0]
			t.Logf("after %v: %s, attempt %d, reason %q", outage, p.State, p.Attempt, p.Reason)
			if p.Attempt < 5 {
				t.Errorf("attempt %d after %v, want it to have kept trying", p.Attempt, outage)
			}
			if outage < 5*time.Minute {
				// A client arrives 5 s before the server is back: the door holds it
				// (connect-wait 30 s by default) and it is answered.
				held := make(chan error, 1)
				go func() { held <- mariadb(40*time.Second, tcp(port)) }()
				time.Sleep(5 * time.Second)
				if err := c.StartAPIServer(t.Context()); err != nil {
					t.Fatal(err)
				}
				if err := <-held; err != nil {
					t.Errorf("the client that connected during the outage: %v", err)
				}
			} else {
				// No client helps: the forward, deep in its 30 s backoff, is ready again
				// within seconds of the server's return all the same.
				time.Sleep(5 * time.Second)
				if err := c.StartAPIServer(t.Context()); err != nil {
					t.Fatal(err)
				}
				back := time.Now()
				eventually(t, 10*time.Second, "ps showing ready without waiting out the backoff", func() error {
					if p := u.ps().Running[0]; p.State != "ready" {
						return fmt.Errorf("ps = %s, next try %v", p.State, p.NextRestart)
					}
					return nil
				})
				t.Logf("ready %v after the API server was back", time.Since(back).Round(100*time.Millisecond))
			}
			if err := selectOne(port); err != nil {
				t.Errorf("SELECT 1 through the same handle after the outage: %v", err)
			}
			if ps := u.ps(); ps.Running[0].State != "ready" {
				t.Errorf("ps after the outage = %+v, want ready", ps.Running[0])
			}
		})
	}
}

// TestNeedsLoginThenComesBack uses a kubeconfig whose credentials come from an exec plugin, as
// GKE's do: while the plugin fails as an expired login does, a first start fails at once with
// the login command, and a live forward that must reconnect shows needs-login with the hint;
// once the plugin works again, the forward is back by itself.
func TestNeedsLoginThenComesBack(t *testing.T) {
	plugin, err := cluster.CredentialPlugin()
	if err != nil {
		t.Fatal(err)
	}
	u := newUser(t, 33456, "KUBECONFIG="+plugin.Kubeconfig, "RHIZOME_MAX_BACKOFF=1s")

	if err := plugin.SetLoggedIn(false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, stderr, err := u.rhizome("forward", "na-prod", "bookkeeper")
	took := time.Since(start)
	if err == nil || !strings.Contains(stderr, "getting credentials: exec: executable") || !strings.Contains(stderr, "fix: log in again: gcloud auth login") {
		t.Errorf("first start while logged out = %v, stderr %q; want kubectl's words and the login command", err, stderr)
	}
	t.Logf("the first start failed after %v: %s", took.Round(10*time.Millisecond), strings.TrimSpace(stderr))
	if took > 10*time.Second {
		t.Errorf("the first start took %v to fail; it must not retry what retrying cannot fix", took)
	}

	if err := plugin.SetLoggedIn(true); err != nil {
		t.Fatal(err)
	}
	port := portOf(u.mustForward())
	if err := selectOne(port); err != nil {
		t.Fatal(err)
	}
	if err := plugin.SetLoggedIn(false); err != nil {
		t.Fatal(err)
	}
	// The session holds its credentials; a reconnect through a new kubectl proxy (the old one
	// killed) must log in again.
	pid := 0
	for _, p := range u.psAll().Running {
		if p.Kind == "kube-proxy" {
			pid = p.PID
		}
	}
	if pid <= 0 {
		t.Fatalf("no kubectl proxy in ps: %+v", u.psAll())
	}
	if err := exec.Command("kill", "-9", strconv.Itoa(pid)).Run(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "ps showing needs-login with the hint", func() error {
		p := u.ps().Running[0]
		if p.State != "needs-login" || !strings.Contains(p.Fix, "gcloud auth login") {
			return fmt.Errorf("ps = %s, fix %q", p.State, p.Fix)
		}
		return nil
	})
	if table, _, _ := u.rhizome("ps"); !strings.Contains(table, "needs-login") || !strings.Contains(table, "gcloud auth login") {
		t.Errorf("ps table:\n%s\nwant needs-login and the login command", table)
	}
	// The database client hears it too, at once rather than after connect-wait.
	start = time.Now()
	if out, err := mariadbAs(nil, append(tcp(port), "-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, "-e", "SELECT 1")...); err == nil ||
		!strings.Contains(out, "rhizome: na-prod/bookkeeper needs a login") || !strings.Contains(out, "gcloud auth login") {
		t.Errorf("mariadb while the forward needs a login = %q, %v; want the state and the login command", out, err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("mariadb waited %v to hear that the forward needs a login", took)
	}
	if err := plugin.SetLoggedIn(true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "SELECT 1 through the same handle after logging in", func() error { return selectOne(port) })
	if p := u.ps().Running[0]; p.State != "ready" {
		t.Errorf("ps after logging in = %+v, want ready", p)
	}
}

// TestFirstStartFailsAtOnceWithTheFix: what retrying cannot fix (a context the kubeconfig lacks,
// a namespace or deployment that does not exist, a user without pods/portforward) fails a first
// start at once, with the fix in words, and leaves a failed forward in ps with the same fix.
func TestFirstStartFailsAtOnceWithTheFix(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	noForward, err := cluster.UserKubeconfig(ctx, "no-portforward", []clustertest.Rule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, db, kubeconfig string
		config                    string
		want, fix                 string
	}{
		{name: "missing context", env: "elsewhere", db: "db",
			config: "environment elsewhere\n    context gke_other-project_europe-west1_other-cluster\n    namespace ns\n    deployment dep\n    database db\n        instance p:r:i\n        port 33471\n",
			want:   `context "gke_other-project_europe-west1_other-cluster" does not exist`,
			fix:    "gcloud container clusters get-credentials other-cluster --location europe-west1 --project other-project"},
		{name: "missing namespace", env: "nons", db: "db",
			config: fmt.Sprintf("environment nons\n    context %s\n    namespace no-such-namespace\n    deployment dep\n    database db\n        instance p:r:i\n        port 33472\n", cluster.Context),
			want:   `namespaces "no-such-namespace" not found`,
			fix:    "namespace no-such-namespace does not exist"},
		{name: "missing deployment", env: "nowhere", db: "bookkeeper",
			want: `deployments.apps "no-such-deployment" not found`,
			fix:  "deployment no-such-deployment does not exist in namespace gke-cloudsql-access"},
		{name: "no pods/portforward", env: "na-prod", db: "bookkeeper", kubeconfig: noForward,
			want: `cannot create resource "pods/portforward"`,
			fix:  "may not create pods/portforward in namespace gke-cloudsql-access"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra []string
			if tt.kubeconfig != "" {
				extra = append(extra, "KUBECONFIG="+tt.kubeconfig)
			}
			u := newUser(t, 33460+2*i, extra...)
			u.addConfig(tt.config)
			if _, _, err := u.rhizome("agent"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, stderr, err := u.rhizome("forward", tt.env, tt.db)
			took := time.Since(start)
			if err == nil || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "\n  fix: ") || !strings.Contains(stderr, tt.fix) {
				t.Errorf("forward %s %s = %v, stderr %q; want %q and the fix %q", tt.env, tt.db, err, stderr, tt.want, tt.fix)
			}
			t.Logf("failed after %v: %s", took.Round(10*time.Millisecond), strings.TrimSpace(stderr))
			if took > 10*time.Second {
				t.Errorf("took %v to fail; it must not retry what retrying cannot fix", took)
			}
			ps := u.ps()
			if ps.Count != 1 || ps.Running[0].State != "failed" || ps.Running[0].PID != 0 || !strings.Contains(ps.Running[0].Fix, tt.fix) {
				t.Errorf("ps = %+v, want one failed forward with the fix", ps)
			}
			logs, _, _ := u.rhizome("logs", tt.env+"/"+tt.db)
			if strings.Contains(logs, "restarting in") {
				t.Errorf("the forward retried:\n%s", logs)
			}
			// No process: no pid 0 and no uptime since 1970, but "-" and the time it has failed.
			table, _, _ := u.rhizome("ps")
			if !regexp.MustCompile(`(?m)^- +` + regexp.QuoteMeta(tt.env+"/"+tt.db) + ` +failed +\S+ +\d+s +0 `).MatchString(table) {
				t.Errorf("ps table:\n%s\nwant the failed forward with pid - and its time in that state", table)
			}
		})
	}
}
