package clustertest

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// podLog is the file KWOK serves as one pod's container log. Safe for concurrent use.
type podLog struct {
	path string

	mu sync.Mutex // serializes appends
}

// newPodLog creates an empty log at path.
func newPodLog(path string) (*podLog, error) {
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return nil, fmt.Errorf("creating pod log: %w", err)
	}
	return &podLog{path: path}, nil
}

// criLine formats text as one line of the container runtime's log format, the only one KWOK
// (like the kubelet) can read back: RFC 3339 time with nanoseconds, stream, "F" for a full line.
func criLine(now time.Time, stream, text string) string {
	return now.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") + " " + stream + " F " + text + "\n"
}

// proxyLine formats text as Cloud SQL Auth Proxy v2 prints it: Go's standard log prefix.
func proxyLine(now time.Time, text string) string {
	return now.UTC().Format("2006/01/02 15:04:05") + " " + text
}

// printf appends one line, as the proxy would write it to stdout.
func (l *podLog) printf(format string, args ...any) error {
	now := time.Now()
	line := criLine(now, "stdout", proxyLine(now, fmt.Sprintf(format, args...)))
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("writing pod log: %w", err)
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing pod log: %w", err)
	}
	return nil
}
