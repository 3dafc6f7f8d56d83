package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// crossTargets are the platforms rhizome ships for besides the one running the tests: macOS on
// both kinds of Mac, and Linux on ARM.
var crossTargets = []struct{ goos, goarch string }{
	{"darwin", "arm64"},
	{"darwin", "amd64"},
	{"linux", "arm64"},
}

// TestCrossBuild vets every package (tests included) and links the binary for each target, as
// a release would build it: without cgo. Platform files (_linux.go, _darwin.go) that drift apart
// fail here on a Linux machine, long before someone tries a Mac.
func TestCrossBuild(t *testing.T) {
	for _, target := range crossTargets {
		t.Run(target.goos+"/"+target.goarch, func(t *testing.T) {
			env := append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
			for _, args := range [][]string{
				{"vet", "./..."},
				{"build", "-o", filepath.Join(t.TempDir(), "rhizome"), "."},
			} {
				cmd := exec.Command("go", args...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("GOOS=%s GOARCH=%s go %v: %v\n%s", target.goos, target.goarch, args, err, out)
				}
			}
		})
	}
}
