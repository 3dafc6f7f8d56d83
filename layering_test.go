package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedImports is who may import whom among rhizome's packages (see ../shared/DESIGN.md):
// the wire contract, the supervisor and the environments stand alone; the agent composes
// them; the CLI talks to the agent through rpc and imports agent and forward only to run the
// daemon and the simulated-forward child in its own binary.
var allowedImports = map[string][]string{
	"":                             {"cli"},
	"rpc":                          {"rpc/safesocket"},
	"rpc/safesocket":               {},
	"proc":                         {},
	"env":                          {"rpc"},
	"forward":                      {"proc", "env", "forward/door", "forward/kube", "forward/engine", "forward/engine/wire", "rpc/safesocket"},
	"forward/door":                 {"env", "forward/engine", "forward/engine/wire", "rpc/safesocket"}, // the front door knows no chains, pods or forwards
	"forward/engine":               {"env", "forward/engine/mysql", "forward/engine/postgres", "forward/engine/sqlserver", "forward/engine/wire"},
	"forward/engine/mysql":         {"forward/engine/wire"}, // one engine's whole wire
	"forward/engine/postgres":      {"forward/engine/wire"},
	"forward/engine/sqlserver":     {"forward/engine/wire"},
	"forward/engine/wire":          {},
	"forward/engine/wire/wiretest": {"forward/engine/wire", "forward/internal/loopback"},
	"forward/kube":                 {"proc", "rpc/safesocket"}, // the kube side knows no forwards, doors or engines
	"forward/internal/clustertest": {},
	"forward/internal/dbtest":      {}, // tests' own database servers
	"forward/internal/loopback":    {}, // tests' loopback servers
	"forward/e2e":                  {}, // tests only: the real binary against a real cluster
	"agent":                        {"rpc", "rpc/safesocket", "proc", "forward", "forward/door", "env"},
	"cli":                          {"rpc", "rpc/safesocket", "env", "agent", "forward", "forward/door"},
}

// TestLayering fails when a package imports a rhizome package it should not, as `go list`
// sees the non-test imports.
func TestLayering(t *testing.T) {
	const module = "github.com/rhizome-dev/rhizome"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("package %q is not in allowedImports: decide what it may import", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module+"/")
			if ours && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s; allowed: %v", fields[0], dep, allowed)
			}
		}
	}
}
