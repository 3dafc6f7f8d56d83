package door

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestListenTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	ls, got, err := listenTCP(busy, false, nil)
	if err != nil || got <= busy {
		t.Fatalf("listenTCP(%d busy, unpinned) = %d, %v; want a later free port", busy, got, err)
	}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	if _, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(got))); err != nil {
		t.Errorf("listenTCP did not leave 127.0.0.1:%d bound: %v", got, err)
	}
	if _, _, err := listenTCP(busy, true, nil); !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "in use by another program") {
		t.Errorf("listenTCP(%d busy, pinned) = %v, want ErrPortInUse", busy, err)
	}
	ours := func(p int) bool { return p == got }
	if _, _, err := listenTCP(got, true, ours); !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "held by another rhizome forward") {
		t.Errorf("listenTCP(%d held by a forward, pinned) = %v, want ErrPortInUse naming rhizome", got, err)
	}
}
