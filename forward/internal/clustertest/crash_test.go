package clustertest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/clustertest"
)

// crashHelperEnv makes the test binary start a cluster, print its work folder and wait to be
// killed (the TestHelperProcess pattern).
const crashHelperEnv = "CLUSTERTEST_CRASH_HELPER"

func crashHelper() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := clustertest.Start(ctx, clustertest.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("dir", c.Dir)
	time.Sleep(time.Hour)
}

// TestCrashKillsEverything kills a test process that runs a cluster with SIGKILL, which runs no
// cleanup, and checks that every process of that cluster goes with it.
func TestCrashKillsEverything(t *testing.T) {
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), crashHelperEnv+"=1")
	helper.Stderr = os.Stderr
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "dir ")
	if err != nil || !ok {
		t.Fatalf("helper said %q, %v; want its work folder", line, err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	procs := processesUsing(dir)
	for _, name := range []string{"etcd", "kube-apiserver", "kwok", "mariadbd", "postgres"} {
		if !slices.Contains(procs, name) {
			t.Fatalf("no %s among the helper cluster's processes %v", name, procs)
		}
	}

	helper.Process.Kill()
	helper.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for {
		left := processesUsing(dir)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of the killed test's cluster still run: %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processesUsing lists the program names of live processes whose arguments mention dir.
func processesUsing(dir string) []string {
	var names []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		data, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(data), dir) {
			continue
		}
		argv0, _, _ := strings.Cut(string(data), "\x00")
		names = append(names, filepath.Base(argv0))
	}
	return names
}
