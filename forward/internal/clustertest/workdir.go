package clustertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// workDirPattern names a Cluster's work folder. It sits right under /tmp, whatever TMPDIR says,
// because the MariaDB socket in it must keep its path under 104 bytes.
const workDirPattern = "/tmp/rzk-*"

// ownerFile in a work folder holds the pid of the test process that made it.
const ownerFile = "owner.pid"

// newWorkDir removes work folders whose test process is gone (a crash leaves them behind; live
// ones may belong to other test binaries running now), then makes a new one owned by this
// process.
func newWorkDir() (string, error) {
	removeStaleWorkDirs()
	dir, err := os.MkdirTemp(filepath.Dir(workDirPattern), filepath.Base(workDirPattern))
	if err != nil {
		return "", fmt.Errorf("making work folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("making work folder: %w", err)
	}
	return dir, nil
}

func removeStaleWorkDirs() {
	dirs, _ := filepath.Glob(workDirPattern)
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being made right now
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}
