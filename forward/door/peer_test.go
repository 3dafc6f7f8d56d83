package door

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
)

// TestPeerUIDOfLoopbackConnections checks that the kernel's owner of a client socket is found
// for both address families and for a Unix socket.
func TestPeerUIDOfLoopbackConnections(t *testing.T) {
	for _, tc := range []struct{ name, network, addr string }{
		{"ipv4", "tcp", "127.0.0.1:0"},
		{"ipv6", "tcp", "[::1]:0"},
		{"unix", "unix", shortSocketPath(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				t.Skipf("no %s here: %v", tc.name, err) // ::1 missing on some hosts
			}
			defer l.Close()
			client, err := net.Dial(tc.network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			server, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			uid, err := peerUID(server)
			if err != nil {
				t.Fatalf("peerUID: %v", err)
			}
			if uid != os.Getuid() {
				t.Errorf("peerUID = %d, want %d", uid, os.Getuid())
			}
		})
	}
}

func shortSocketPath(t *testing.T) string { return shortDir(t) + "/s" }

// shortDir is a fresh directory with a short path: t.TempDir() can be too long for sockets.
func shortDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "rzp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestPeerUIDOfAnotherUser connects from a real second uid (setpriv, as root does in CI) and
// expects that uid, not the agent's.
func TestPeerUIDOfAnotherUser(t *testing.T) {
	const nobody = 65534
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		"bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; read -t 10 <&3", port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("setpriv (needs root and util-linux): %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if uid, err := peerUID(server); err != nil || uid != nobody {
		t.Errorf("peerUID = %d, %v; want %d", uid, err, nobody)
	}
}
