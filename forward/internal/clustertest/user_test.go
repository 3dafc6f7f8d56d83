package clustertest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/clustertest"
)

// TestUserKubeconfig checks that a user made by UserKubeconfig may do what its rules allow in
// the namespace and nothing more, through the real kubectl, and that a second call replaces
// the rules. (kubectl auth can-i reads "pods/exec" as the pod named exec, so subresources go
// in --subresource.)
func TestUserKubeconfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path, err := cluster.UserKubeconfig(ctx, "alice", []clustertest.Rule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	as := func(args ...string) (string, error) {
		args = append([]string{"--context", cluster.Context, "-n", cluster.Namespace}, args...)
		cmd := exec.CommandContext(ctx, "kubectl", args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+path)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"}, "alice"},
		{[]string{"auth", "can-i", "create", "pods", "--subresource", "exec"}, "yes"},
		{[]string{"auth", "can-i", "create", "pods", "--subresource", "portforward"}, "no"},
		{[]string{"get", "deployment", cluster.Deployment, "-o", "name"}, "deployment.apps/" + cluster.Deployment},
	} {
		if out, _ := as(tt.args...); out != tt.want {
			t.Errorf("kubectl %s as alice = %q, want %q", strings.Join(tt.args, " "), out, tt.want)
		}
	}
	if out, err := as("get", "pods"); err == nil || !strings.Contains(out, "Forbidden") {
		t.Errorf("kubectl get pods as alice = %q, %v; want Forbidden", out, err)
	}

	if _, err := cluster.UserKubeconfig(ctx, "alice", []clustertest.Rule{
		{APIGroups: []string{""}, Resources: []string{"pods/portforward"}, Verbs: []string{"create"}},
	}); err != nil {
		t.Fatal(err)
	}
	if out, _ := as("auth", "can-i", "create", "pods", "--subresource", "portforward"); out != "yes" {
		t.Errorf("after new rules, can-i create pods/portforward = %q, want yes", out)
	}
	if out, _ := as("auth", "can-i", "create", "pods", "--subresource", "exec"); out != "no" {
		t.Errorf("after new rules, can-i create pods/exec = %q, want no (the old rules are gone)", out)
	}
}
