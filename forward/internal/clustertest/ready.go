package clustertest

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// waitChild polls check until it passes, giving up at once when the child exits; either failure
// carries the tail of the child's log, which is where its reason is.
func waitChild(ctx context.Context, c *child, logPath string, check func() error) error {
	err := poll(ctx, c.name, func() error {
		if c.exited() {
			return permanentError{fmt.Errorf("%s exited: %v", c.name, c.err)}
		}
		return check()
	})
	if err != nil {
		return fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, logPath, tail(logPath, 15))
	}
	return nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
