package clustertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestNewWorkDirRemovesOnlyDeadOwnersFolders(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	folder := func(pid int) string {
		dir, err := os.MkdirTemp(filepath.Dir(workDirPattern), filepath.Base(workDirPattern))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	crashed := folder(dead.Process.Pid)
	live := folder(os.Getpid())

	dir, err := newWorkDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if _, err := os.Stat(crashed); !os.IsNotExist(err) {
		t.Errorf("folder of a dead test process survives: Stat(%q) = %v", crashed, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("folder of a live test process removed: Stat(%q) = %v", live, err)
	}
	if len(dir) > 40 {
		t.Errorf("newWorkDir() = %q: too long to keep socket paths in it short", dir)
	}
}
