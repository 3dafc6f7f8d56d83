package door

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// portSearch is how far past a busy port the next free one is looked for.
const portSearch = 100

// listenTCP binds the forward's port on 127.0.0.1 and, where the host has IPv6, on ::1, so
// that "localhost" reaches the forward whichever address it resolves to. It takes want when it
// is free, else (unless pinned) the next free port after it. Ports that ours reports are held
// by another forward.
func listenTCP(want int, pinned bool, ours func(int) bool) ([]net.Listener, int, error) {
	ls, err := listenLoopback(want, ours)
	if err == nil {
		return ls, want, nil
	}
	if pinned {
		return nil, 0, fmt.Errorf("%w: 127.0.0.1:%d %v: free it, or leave out --port to let rhizome pick the next free one", ErrPortInUse, want, err)
	}
	for p := want + 1; p <= want+portSearch && p < 65536; p++ {
		if ls, err := listenLoopback(p, ours); err == nil {
			return ls, p, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: ports %d to %d are all busy", ErrPortInUse, want, want+portSearch)
}

func listenLoopback(port int, ours func(int) bool) ([]net.Listener, error) {
	if ours != nil && ours(port) {
		return nil, errors.New("is held by another rhizome forward")
	}
	v4, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, busy(err)
	}
	v6, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
	switch {
	case err == nil:
		return []net.Listener{v4, v6}, nil
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EAFNOSUPPORT):
		return []net.Listener{v4}, nil // no IPv6 loopback here
	}
	v4.Close()
	return nil, busy(err)
}

func busy(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return errors.New("is in use by another program")
	}
	return err
}
