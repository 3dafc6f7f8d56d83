package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestForwardTakesEveryContext sends forwards whose contexts are named as the usual tools name
// them, the EKS ARN among them, over a real socket: none is refused, and kubectl gets each as
// one argument, --context=NAME, which it cannot read as anything but the context.
func TestForwardTakesEveryContext(t *testing.T) {
	dir := shortDir(t)
	args := filepath.Join(dir, "args")
	// One argument a line, so that a name split into two would show.
	_, kubectl := fakeKubectl(t, `printf '%s\n' "$@" >> `+args+`; echo "error: no such context" >&2; exit 1`)
	c := dialAgent(t, startAgent(t, withKubectl(kubectl)))
	tests := []struct{ name, context string }{
		{"EKS", "arn:aws:eks:us-east-1:123456789012:cluster/prod"},
		{"eksctl", "admin@prod.us-east-1.eksctl.io"},
		{"OpenShift", "default/api-crc-testing:6443/kubeadmin"},
		{"GKE", "gke_clover-prod-kubernetes_us-central1_na-prod-us-central1-cluster"},
	}
	for _, tt := range tests {
		os.Remove(args)
		_, err := c.Forward(t.Context(), rpc.ForwardParams{KubeContext: tt.context, KubeNamespace: "ns", KubeDeployment: "dep", SQLConnection: "proj:region:inst", LocalPort: freePort(t), Name: tt.name})
		if err == nil || !strings.Contains(err.Error(), "no such context") {
			t.Errorf("%s: Forward(context %q) = %v, want kubectl's own refusal, not the agent's", tt.name, tt.context, err)
		}
		b, _ := os.ReadFile(args)
		if lines := strings.Split(string(b), "\n"); !slices.Contains(lines, "--context="+tt.context) {
			t.Errorf("%s: kubectl got arguments %q, want --context=%s as one", tt.name, lines, tt.context)
		}
		if _, err := c.Stop(t.Context(), rpc.StopParams{Target: tt.name}); err != nil {
			t.Errorf("Stop(%s) = %v", tt.name, err)
		}
	}
}
