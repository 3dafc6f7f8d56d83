package door

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// asNobody runs a bash script as uid 65534 (setpriv; the tests run as root, as CI does) and
// waits for it: the other user of the machine.
func asNobody(t *testing.T, script string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Fatal("this test acts as a second user with setpriv and must run as root (scripts/test does)")
	}
	out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("as uid 65534: %v\n%s", err, out)
	}
}

// TestPeerUIDOfAClosedConnectionIsUnknown: another user connects and closes before the door
// looks; the kernel then keeps only a time-wait socket, owned by no one (uid 0, inode 0), which
// must not read as the owner root's.
func TestPeerUIDOfAClosedConnectionIsUnknown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	asNobody(t, fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; echo hi >&3; exec 3>&-", port))
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if uid, err := peerUID(server); err == nil {
		t.Errorf("peerUID(a connection its client closed) = %d, nil; want an error (cannot tell)", uid)
	}
}

// TestSockDiagRefusesAListenerForTheClient asks about a "connection" from a port where a
// socket only listens: the kernel's lookup falls back to that listener (root's), which is not
// the connection asked about.
func TestSockDiagRefusesAListenerForTheClient(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	door, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer door.Close()
	if uid, err := sockDiagUID(other.Addr().(*net.TCPAddr), door.Addr().(*net.TCPAddr)); err == nil {
		t.Errorf("sockDiagUID(from a listening port) = %d, nil; want an error naming another socket", uid)
	}
}

// TestFrontDoorRefusesAFloodOfClosedConnections: another user connects and closes a thousand
// times as fast as bash can; not one of them may get in, and every one is counted.
func TestFrontDoorRefusesAFloodOfClosedConnections(t *testing.T) {
	back := echoServer(t)
	d, _ := testDoor(t, 0)
	d.Up(tcpBackend(back))
	const n = 1000
	asNobody(t, fmt.Sprintf("for i in $(seq %d); do exec 3<>/dev/tcp/127.0.0.1/%d; exec 3>&-; done", n, d.Port()))
	waitFor(t, "every connection admitted or refused", func() bool {
		tr := d.Traffic()
		return tr.Accepted+tr.Refused == n
	})
	if tr := d.Traffic(); tr.Accepted != 0 || tr.Refused != n {
		t.Errorf("after %d connect-and-close from uid 65534: %d accepted, %d refused; want 0 and %d", n, tr.Accepted, tr.Refused, n)
	}

	// The owner's open connection still gets in.
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c, "mine"); err != nil || !strings.Contains(got, "echo: mine") {
		t.Errorf("the owner's connection after the flood = %q, %v; want the echo", got, err)
	}
}
