package cli

import (
	"bytes"
	"fmt"
	"os"
)

// processArgs returns the command line of process pid, from /proc/PID/cmdline.
func processArgs(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	return splitNUL(bytes.TrimRight(b, "\x00")), nil
}
