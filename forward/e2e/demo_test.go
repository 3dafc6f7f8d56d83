package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoNeedsOnlyWhatTheREADMELists runs scripts/demo with a PATH that holds only what the
// README asks for (bash, Go, kubectl) and the two basic utilities it calls (dirname, mkdir): no
// python3, no jq, no grep. With the cluster's context it forwards for real; without, on the
// simulated cluster.
func TestDemoNeedsOnlyWhatTheREADMELists(t *testing.T) {
	bin := t.TempDir()
	for _, tool := range []string{"bash", "go", "kubectl", "dirname", "mkdir"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	demo := func(u *user) (string, string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "bash"), "../../scripts/demo")
		cmd.Env = append(u.env, "PATH="+bin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("scripts/demo = %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		return lines[len(lines)-1], stderr.String()
	}

	// The demo builds into bin/ of the checkout, as it does for a user; it is ignored by git.
	built := "../../bin/rhizome"
	if _, err := os.Stat(built); os.IsNotExist(err) {
		t.Cleanup(func() { os.Remove(built); os.Remove(filepath.Dir(built)) })
	}

	// (The port may move if another test holds it; SELECT 1 tells a real forward.)
	u := newUser(t, 33446)
	handle, stderr := demo(u)
	if !strings.HasPrefix(handle, "mysql://127.0.0.1:") || !strings.Contains(stderr, "forwarding for real") {
		t.Fatalf("demo printed %q; stderr:\n%s\nwant the real forward's handle", handle, stderr)
	}
	if err := selectOne(portOf(handle)); err != nil {
		t.Errorf("SELECT 1 through the demo's handle: %v", err)
	}

	other := kubeconfigVariant(t, func(cfg string) string {
		return strings.ReplaceAll(cfg, `"`+cluster.Context+`"`, `"some-other-cluster"`)
	})
	u = newUser(t, 33456, "KUBECONFIG="+other)
	handle, stderr = demo(u)
	if !strings.HasPrefix(handle, "mysql://127.0.0.1:") || !strings.Contains(stderr, "using the simulated cluster") ||
		!strings.Contains(stderr, "gcloud container clusters get-credentials") {
		t.Errorf("demo without the context printed %q; stderr:\n%s\nwant a simulated forward and the reason", handle, stderr)
	}
}
