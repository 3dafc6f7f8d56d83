package forward

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// portSearch is how far past a busy port the next free one is looked for.
const portSearch = 100

// pickPort returns want when it is free, else (unless pinned) the next free port after it.
// Ports that taken reports as ours (held by a forward between reconnects) count as busy.
func pickPort(want int, pinned bool, taken func(int) bool) (int, error) {
	err := portFree(want, taken)
	if err == nil {
		return want, nil
	}
	if pinned {
		return 0, fmt.Errorf("%w: 127.0.0.1:%d %v: free it, or leave out --port to let rhizome pick the next free one", ErrPortInUse, want, err)
	}
	for p := want + 1; p <= want+portSearch && p < 65536; p++ {
		if portFree(p, taken) == nil {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: ports %d to %d are all busy", ErrPortInUse, want, want+portSearch)
}

func portFree(port int, taken func(int) bool) error {
	if taken != nil && taken(port) {
		return errors.New("is held by another rhizome forward")
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return errors.New("is in use by another program")
		}
		return err
	}
	return l.Close()
}
