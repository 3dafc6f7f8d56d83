package door

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// echoServer is a back end that answers every line with "echo: LINE".
func echoServer(t testing.TB) string {
	return listen(t, func(c net.Conn) {
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			fmt.Fprintf(c, "echo: %s\n", sc.Text())
		}
	})
}

// testDoor opens a front door on a free port with a MySQL socket in a fresh private directory.
func testDoor(t testing.TB, wait time.Duration) (*Door, func() string) {
	return testDoorOf(t, wait, env.MySQL)
}

// testDoorOf opens a front door on a free port with the socket of engine in a fresh private
// directory.
func testDoorOf(t testing.TB, wait time.Duration, engine string) (*Door, func() string) {
	return testDoorWith(t, testConfig(t, wait, engine), Hooks{})
}

// testConfig is testDoorOf's configuration.
func testConfig(t testing.TB, wait time.Duration, engine string) Config {
	return Config{Port: 40000, ConnectWait: wait, Engine: lookupEngine(t, engine),
		SocketDir: filepath.Join(shortDir(t), "forwards"), Name: "test/door", ID: "id"}
}

// testDoorWith opens a door with cfg and serves it with h, whose unset hooks do nothing but
// Logf's, which the returned function reads back.
func testDoorWith(t testing.TB, cfg Config, h Hooks) (*Door, func() string) {
	t.Helper()
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SocketDir != "" && d.UnixPath() == "" {
		t.Fatal(d.UnixErr())
	}
	var mu sync.Mutex
	var logged []string
	h.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, args...))
	}
	if h.ActiveChanged == nil {
		h.ActiveChanged = func() {}
	}
	if h.LostBackend == nil {
		h.LostBackend = func(string) {}
	}
	if h.Waiting == nil {
		h.Waiting = func(string) {}
	}
	if h.Refusal == nil {
		h.Refusal = func() wire.Refusal {
			return wire.Refusal{Message: "rhizome: test/door is reconnecting", Transient: true}
		}
	}
	d.Serve(h)
	t.Cleanup(func() { d.Close("test over") })
	return d, func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(logged, "\n")
	}
}

func roundTrip(c net.Conn, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintln(c, line); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestFrontDoorHoldsAConnectionUntilTheBackEndIsUp(t *testing.T) {
	back := echoServer(t)
	d, _ := testDoor(t, 10*time.Second)
	for _, addr := range []struct{ network, addr string }{
		{"tcp", fmt.Sprintf("127.0.0.1:%d", d.Port())},
		{"unix", d.UnixPath()},
	} {
		c, err := net.Dial(addr.network, addr.addr)
		if err != nil {
			t.Fatalf("dial %s while down: %v (the door must accept while the chain is down)", addr.addr, err)
		}
		defer c.Close()
		go func() {
			time.Sleep(50 * time.Millisecond)
			d.Up(tcpBackend(back))
		}()
		got, err := roundTrip(c, "hello")
		if err != nil || got != "echo: hello\n" {
			t.Errorf("through %s: %q, %v; want the echo once the back end came up", addr.network, got, err)
		}
		d.Down()
	}
	tr := d.Traffic()
	if tr.Accepted != 2 || tr.Refused != 0 || tr.LastActivity.IsZero() {
		t.Errorf("traffic = %+v, want 2 accepted and a last activity", tr)
	}
}

func TestFrontDoorGivesUpAfterConnectWait(t *testing.T) {
	d, logged := testDoor(t, 100*time.Millisecond)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read on a connection past connect-wait = %d, %v; want EOF", n, err)
	}
	waitFor(t, "the reason logged", func() bool {
		return strings.Contains(logged(), "was not back within connect-wait 100ms")
	})
}

func TestFrontDoorCountsBytesAndCutsOnClose(t *testing.T) {
	back := echoServer(t)
	d, _ := testDoor(t, time.Second)
	d.Up(tcpBackend(back))
	c, err := net.Dial("tcp", fmt.Sprintf("[::1]:%d", d.Port()))
	if err != nil {
		c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port())) // a host without IPv6
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c, "abc"); err != nil || got != "echo: abc\n" {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	waitFor(t, "one active connection", func() bool { return d.Traffic().Active == 1 })
	if cut := d.Close("stopped by the test"); cut != 1 {
		t.Errorf("close cut %d connections, want 1", cut)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Errorf("the client's connection survived close")
	}
	tr := d.Traffic()
	if tr.BytesIn != 4 || tr.BytesOut != 10 || tr.Active != 0 {
		t.Errorf("traffic = %+v, want 4 bytes in, 10 out, none active", tr)
	}
	if _, err := os.Stat(d.UnixPath()); !os.IsNotExist(err) {
		t.Errorf("the socket %s is still there after close: %v", d.UnixPath(), err)
	}
	if _, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port())); err == nil {
		t.Errorf("the port still accepts after close")
	}
}

func TestFrontDoorReportsADeadBackEndOnce(t *testing.T) {
	back := echoServer(t)
	var lost atomic.Int32
	d, _ := testDoorWith(t, testConfig(t, 10*time.Second, env.MySQL), Hooks{LostBackend: func(string) { lost.Add(1) }})
	// A back end that was said to be up but no longer listens.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	d.Up(tcpBackend(deadAddr))
	results := make(chan string, 3)
	for range 3 {
		go func() {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()))
			if err != nil {
				results <- err.Error()
				return
			}
			defer c.Close()
			got, err := roundTrip(c, "x")
			results <- fmt.Sprint(got, err)
		}()
	}
	waitFor(t, "the dead back end reported", func() bool { return lost.Load() > 0 })
	d.Up(tcpBackend(back))
	for range 3 {
		if got := <-results; got != "echo: x\n<nil>" {
			t.Errorf("a connection that met the dead back end got %q; want it to wait for the next one", got)
		}
	}
	if n := lost.Load(); n != 1 {
		t.Errorf("lostBackend called %d times, want once per back end", n)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestFrontDoorReplaysToTheNextBackEnd: a back end that accepts and then closes without a byte
// (kubectl whose pod has gone) is reported dead, and what the client had sent goes again to
// the next back end, so the client sees one working connection.
func TestFrontDoorReplaysToTheNextBackEnd(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	back := echoServer(t)
	lost := make(chan string, 1)
	var d *Door
	d, _ = testDoorWith(t, testConfig(t, 10*time.Second, env.MySQL), Hooks{LostBackend: func(why string) {
		lost <- why
		d.Up(tcpBackend(back)) // the chain reconnects
	}})
	d.Up(tcpBackend(silent.Addr().String()))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c, "hello"); err != nil || got != "echo: hello\n" {
		t.Errorf("through a dying back end then a live one: %q, %v; want the echo", got, err)
	}
	if why := <-lost; !strings.Contains(why, "closed the connection before the database answered") {
		t.Errorf("lostBackend(%q), want it to say the back end closed before answering", why)
	}
	if got, err := roundTrip(c, "again"); err != nil || got != "echo: again\n" {
		t.Errorf("the same connection afterwards: %q, %v", got, err)
	}
	c.Close()
	waitFor(t, "the relay to end", func() bool { return d.Traffic().Active == 0 })
	if tr := d.Traffic(); tr.BytesIn != 12 || tr.BytesOut != 24 {
		t.Errorf("traffic = %+v, want 12 bytes in (the replay not counted twice) and 24 out", tr)
	}
}

// tcpBackend is a back end at a TCP address, as the tests' servers are.
type tcpBackend string

func (b tcpBackend) Dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", string(b))
}

func (b tcpBackend) String() string { return string(b) }
