package door

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// TestLoginMeetsADeadBackEnd: a client of a forward with a login arrives while the back end
// that is up no longer answers (the pod side of its streams is gone): the door takes that back
// end down, the chain brings the next one, and the engine's opening dials again and reaches it,
// the client none the wiser (here it meets the simulated MySQL server, which answers its
// login with an error of its own).
func TestLoginMeetsADeadBackEnd(t *testing.T) {
	silent := listen(t, func(c net.Conn) {}) // accepts, then closes without a word
	alive := listen(t, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		engine.SimulatedServer(env.MySQL)(c, 7)
	})
	cfg := testConfig(t, 10*time.Second, env.MySQL)
	cfg.Wire = engine.For(env.MySQL)
	cfg.Login = &wire.Login{User: "alice", Password: func(context.Context, bool) (string, error) { return "pw", nil }, Source: "test"}
	var lost atomic.Int32
	var d *Door
	d, logged := testDoorWith(t, cfg, Hooks{LostBackend: func(string) {
		lost.Add(1)
		d.Up(tcpBackend(alive)) // the chain's next back end
	}})
	d.Up(tcpBackend(silent))
	err := mysqlClientError(t, d)
	if err == nil || !strings.Contains(err.Error(), "simulated forward") {
		t.Errorf("a client logged in through a dead back end, then a live one, got %v; want the live server's answer\nlog:\n%s", err, logged())
	}
	if n := lost.Load(); n != 1 {
		t.Errorf("the dead back end was reported %d times, want once", n)
	}
}

// TestUnknowablePeerIsNeverLoggedIn: a connection whose peer the kernel cannot name (here a
// pipe; on macOS every TCP one) may be let in where the platform leaves loopback as the guard,
// but is never verified, so the door never logs it in: a check that cannot decide does not
// hand out the password.
func TestUnknowablePeerIsNeverLoggedIn(t *testing.T) {
	d, _ := testDoor(t, time.Second)
	a, b := net.Pipe()
	defer b.Close()
	admitted, verified := d.admit(a)
	if !admitted || verified {
		t.Errorf("admit(a pipe) = admitted %v, verified %v; want let in, not verified", admitted, verified)
	}
}
