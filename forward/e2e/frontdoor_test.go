package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// mariadb runs SELECT 1 with the real client, reaching the server as where says (-h/-P or -S),
// optionally as another user (a command prefix such as setpriv).
func mariadb(connectTimeout time.Duration, where []string, prefix ...string) error {
	args := append(prefix, "mariadb", "--no-defaults", "--skip-ssl", fmt.Sprintf("--connect-timeout=%d", int(connectTimeout.Seconds())))
	args = append(append(args, where...), "-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, cluster.MySQL.Database, "-N", "-e", "SELECT 1")
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	if strings.TrimSpace(string(out)) != "1" {
		return fmt.Errorf("SELECT 1 returned %q", out)
	}
	return nil
}

func tcp(port string) []string      { return []string{"-h", "127.0.0.1", "-P", port} }
func socketAt(path string) []string { return []string{"-S", path} }

// asNobody runs a command as a real second user.
var asNobody = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}

// forwardJSON asks for the forward and returns its handle.
func (u *user) forwardJSON(args ...string) rpc.Handle {
	u.t.Helper()
	out := u.mustForward(append([]string{"--json"}, args...)...)
	var h rpc.Handle
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		u.t.Fatalf("forward --json printed %q: %v", out, err)
	}
	return h
}

// TestFrontDoorHoldsThePortThroughAReconnect replaces the pod under a live forward: while the
// chain reconnects, no other program can bind the port, and a client that connects then is
// answered once the chain is back.
func TestFrontDoorHoldsThePortThroughAReconnect(t *testing.T) {
	u := newUser(t, 33376)
	h := u.forwardJSON()
	port := strconv.Itoa(h.LocalPort)
	if err := mariadb(5*time.Second, tcp(port)); err != nil {
		t.Fatal(err)
	}

	var bound atomic.Int32
	probeCtx, stopProbe := context.WithCancel(t.Context())
	var probes sync.WaitGroup
	probes.Add(1)
	go func() { // another program trying to take the port all through the reconnect
		defer probes.Done()
		for probeCtx.Err() == nil {
			for _, addr := range []string{"127.0.0.1:" + port, "[::1]:" + port} {
				if l, err := net.Listen("tcp", addr); err == nil {
					bound.Add(1)
					l.Close()
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	if err := cluster.ReplacePod(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "ps showing the forward reconnecting", func() error {
		if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "reconnecting" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	if err := mariadb(30*time.Second, tcp(port)); err != nil {
		t.Errorf("a client that connected while the forward reconnected: %v", err)
	}
	if err := mariadb(30*time.Second, socketAt(h.UnixSocket)); err != nil {
		t.Errorf("SELECT 1 through the Unix socket after the reconnect: %v", err)
	}
	stopProbe()
	probes.Wait()
	if n := bound.Load(); n != 0 {
		t.Errorf("another program bound the forward's port %d times during the reconnect", n)
	}
	ps := u.ps()
	if ps.Count != 1 || ps.Running[0].Restarts < 1 || ps.Running[0].Traffic == nil || ps.Running[0].Traffic.Accepted < 3 {
		t.Errorf("ps = %+v, want a restart and at least 3 accepted connections", ps)
	}
}

// TestFrontDoorLetsOnlyTheOwnerIn connects as a real second uid, over TCP and the socket.
func TestFrontDoorLetsOnlyTheOwnerIn(t *testing.T) {
	u := newUser(t, 33386)
	h := u.forwardJSON()
	port := strconv.Itoa(h.LocalPort)
	if h.UnixSocket == "" || h.UnixSocketError != "" {
		t.Fatalf("handle = %+v, want a Unix socket", h)
	}
	if err := mariadb(5*time.Second, tcp(port), asNobody...); err == nil {
		t.Errorf("uid 65534 got SELECT 1 through the owner's forward")
	}
	if err := mariadb(5*time.Second, socketAt(h.UnixSocket), asNobody...); err == nil {
		t.Errorf("uid 65534 got SELECT 1 through the owner's socket")
	}
	if err := mariadb(5*time.Second, tcp(port)); err != nil {
		t.Errorf("the owner over TCP after the refusal: %v", err)
	}
	if err := mariadb(5*time.Second, socketAt(h.UnixSocket)); err != nil {
		t.Errorf("the owner through the socket: %v", err)
	}
	out, _, err := u.rhizome("forward", "--exec", "na-prod", "bookkeeper", "--", "sh", "-c", "echo $MYSQL_UNIX_PORT")
	if err != nil || out != h.UnixSocket {
		t.Errorf("forward --exec: MYSQL_UNIX_PORT=%q, %v; want %s", out, err, h.UnixSocket)
	}
	if out, _, err := u.rhizome("forward", "--socket", "na-prod", "bookkeeper"); err != nil || out != h.UnixSocket {
		t.Errorf("forward --socket = %q, %v; want %s", out, err, h.UnixSocket)
	}
	ps := u.ps()
	if ps.Count != 1 || ps.Running[0].Traffic == nil || ps.Running[0].Traffic.Refused != 1 {
		t.Errorf("ps = %+v, want one refused connection (the socket's mode stops the other before it connects)", ps)
	}
	logs, _, _ := u.rhizome("logs", "na-prod/bookkeeper")
	if !strings.Contains(logs, "refused a connection from uid 65534") {
		t.Errorf("logs do not name the refused uid:\n%s", logs)
	}
}

// TestIdleTimeoutAndMaxAge: an unused forward stops after its idle-timeout, a used one does not;
// max-age stops a forward whatever its use, cutting its connections.
func TestIdleTimeoutAndMaxAge(t *testing.T) {
	u := newUser(t, 33406)
	port := portOf(u.mustForward("--idle-timeout", "2s"))
	eventually(t, 30*time.Second, "ps showing the unused forward idle-stopped", func() error {
		ps := u.ps()
		if ps.Count != 1 || ps.Running[0].State != "idle-stopped" || !strings.Contains(ps.Running[0].Reason, "idle-timeout 2s") {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	if err := mariadb(2*time.Second, tcp(port)); err == nil {
		t.Errorf("SELECT 1 through a forward that stopped itself")
	}

	// Used: a connection open for 4 s keeps a 2 s idle-timeout from firing.
	u.mustForward("--idle-timeout", "2s")
	if err := sleepQuery(4, tcp(port)); err != nil {
		t.Fatalf("a 4 s query through the forward: %v", err)
	}
	if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "ready" {
		t.Errorf("after a 4 s query, ps = %+v; want the forward still ready", ps)
	}
	eventually(t, 30*time.Second, "idle-stopped once unused", func() error {
		if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "idle-stopped" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})

	// max-age cuts an open connection.
	u.mustForward("--max-age", "2s")
	err := sleepQuery(10, tcp(port))
	if err == nil {
		t.Errorf("a 10 s query outlived a 2 s max-age")
	}
	eventually(t, 30*time.Second, "ps showing the forward expired", func() error {
		ps := u.ps()
		if ps.Count != 1 || ps.Running[0].State != "expired" || !strings.Contains(ps.Running[0].Reason, "max-age 2s reached") {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	logs, stderr, err := u.rhizome("logs", "na-prod/bookkeeper")
	if !strings.Contains(logs, "max-age 2s reached: closed the front door, cutting 1 open connection ") {
		t.Errorf("logs do not say the connection was cut:\n%s%s%v", logs, stderr, err)
	}
}

// sleepQuery holds a connection for seconds with SELECT SLEEP.
func sleepQuery(seconds int, where []string) error {
	args := append([]string{"--no-defaults", "--skip-ssl", "--connect-timeout=5"}, where...)
	args = append(args, "-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, cluster.MySQL.Database, "-N", "-e", fmt.Sprintf("SELECT SLEEP(%d)", seconds))
	out, err := exec.Command("mariadb", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
