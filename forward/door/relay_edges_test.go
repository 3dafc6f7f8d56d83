package door

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestHalfClosedClientGetsTheWholeAnswer: a client sends its request and closes its sending
// side (shutdown(SHUT_WR), as nc -N does); the database reads to the end, then answers 2.6 MB
// slowly, over a few seconds. The client gets every byte, then EOF.
func TestHalfClosedClientGetsTheWholeAnswer(t *testing.T) {
	const size = 2600 << 10
	answer := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	back := listen(t, func(c net.Conn) {
		if _, err := io.Copy(io.Discard, c); err != nil { // the request, up to the client's end
			return
		}
		for rest := answer; len(rest) > 0; rest = rest[min(len(rest), 100<<10):] {
			if _, err := c.Write(rest[:min(len(rest), 100<<10)]); err != nil {
				return
			}
			time.Sleep(120 * time.Millisecond) // the database takes its time: 26 chunks
		}
	})
	d, _ := testDoor(t, 10*time.Second)
	d.Up(tcpBackend(back))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("SELECT everything\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, answer) {
		t.Errorf("half-closed client read %d bytes, %v; want all %d and EOF", len(got), err, len(answer))
	}
}

// TestClientLeavingBeforeTheAnswerEndsTheRelay: twenty clients connect and close, as a
// port scan or an IDE's connection test does, to a database that says nothing first and never
// gives up on a silent client. Each one's end reaches the database and its relay ends: nothing
// stays open (active 0, which lets the forward's idle-timeout run).
func TestClientLeavingBeforeTheAnswerEndsTheRelay(t *testing.T) {
	var ended atomic.Int64
	testOver := make(chan struct{})
	back := listen(t, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // until the client's end, passed on
		ended.Add(1)
		<-testOver // and never closes by itself
	})
	t.Cleanup(func() { close(testOver) }) // before listen's own clean-up, which waits for this
	d, logged := testDoor(t, 10*time.Second)
	d.Up(tcpBackend(back))
	const n = 20
	for i := range n {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()))
		if err != nil {
			t.Fatal(err)
		}
		// Let in first (a client gone before the peer check is refused: whose it was cannot
		// be told), then gone.
		waitFor(t, "the client let in", func() bool { return d.Traffic().Accepted == i+1 })
		c.Close()
	}
	waitFor(t, "every relay ended and its end passed on", func() bool {
		tr := d.Traffic()
		return tr.Accepted == n && tr.Active == 0 && ended.Load() == n
	})
	if tr := d.Traffic(); tr.Active != 0 {
		t.Errorf("after %d clients left: active %d, want 0", n, tr.Active)
	}
	waitFor(t, "the reason logged", func() bool {
		return bytes.Contains([]byte(logged()), []byte("the client left before the database answered"))
	})
}

// TestConnectionAcceptedAsTheDoorClosesIsToldWhy: a connection accepted just as idle-timeout
// closes the door (accepted, then the door closed before its relay began) is closed with the
// reason in the forward's log, not dropped without a word.
func TestConnectionAcceptedAsTheDoorClosesIsToldWhy(t *testing.T) {
	d, logged := testDoor(t, 10*time.Second)
	d.Up(tcpBackend(echoServer(t)))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	accepted, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	const why = "idle-stopped: idle-timeout 1s passed with no open connection"
	d.Close(why)
	// What the accept loop does with a connection it accepted and admitted as close began.
	d.wg.Add(1)
	d.relay(accepted, true)
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client of a connection accepted as the door closed read %d, %v; want EOF", n, err)
	}
	if want := "closed a connection from " + client.LocalAddr().String() + ": the forward ended: " + why; !bytes.Contains([]byte(logged()), []byte(want)) {
		t.Errorf("log = %q, want %q", logged(), want)
	}
}
