package forward

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPodPortsRememberedAcrossAgents(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "rhizome") // made on first write
	a, b := Request{Context: "c", Namespace: "n", Deployment: "d", SQLConnection: "p:r:a"}, Request{Context: "c", Namespace: "n", Deployment: "d", SQLConnection: "p:r:b"}
	first := newPodPorts(dir)
	if got := first.get(podPortKey(a)); got != 0 {
		t.Fatalf("get before anything was remembered = %d, want 0", got)
	}
	for _, set := range []struct {
		r    Request
		port int
	}{{a, 3307}, {b, 5432}, {a, 3308}} {
		if err := first.set(podPortKey(set.r), set.port); err != nil {
			t.Fatal(err)
		}
	}
	next := newPodPorts(dir) // the next agent
	if got, want := next.get(podPortKey(a)), 3308; got != want {
		t.Errorf("next agent's port for a = %d, want %d", got, want)
	}
	if got, want := next.get(podPortKey(b)), 5432; got != want {
		t.Errorf("next agent's port for b = %d, want %d", got, want)
	}
	if err := next.set(podPortKey(b), 0); err != nil {
		t.Fatal(err)
	}
	if got := newPodPorts(dir).get(podPortKey(b)); got != 0 {
		t.Errorf("forgotten port for b = %d, want 0", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, podPortsFile+".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestPodPortsIgnoreABadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, podPortsFile), []byte(`{"not": "a list"`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Request{Context: "c", Namespace: "n", Deployment: "d", SQLConnection: "p:r:a"}
	p := newPodPorts(dir)
	if got := p.get(podPortKey(r)); got != 0 {
		t.Errorf("get from a broken file = %d, want 0", got)
	}
	if err := p.set(podPortKey(r), 3307); err != nil {
		t.Fatalf("set over a broken file: %v", err)
	}
	if got := newPodPorts(dir).get(podPortKey(r)); got != 3307 {
		t.Errorf("after rewriting the broken file: %d, want 3307", got)
	}
}

func TestExecPortRE(t *testing.T) {
	const inst = "proj:us-central1:db"
	for _, tc := range []struct {
		name, out string
		want      []int
	}{
		{"started", "[proj:us-central1:db] started on 127.0.0.1:3307\n", []int{3307}},
		{"already running", "[proj:us-central1:db] already listening on 127.0.0.1:5432\n", []int{5432}},
		{"another instance", "[proj:us-central1:other] started on 127.0.0.1:3307\n", nil},
		{"no address", "[proj:us-central1:db] starting\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := portAnnouncements(execPortRE(inst), tc.out)
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("ports in %q = %v, want %v", tc.out, got, tc.want)
			}
		})
	}
}
