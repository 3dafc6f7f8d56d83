package agent

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestFrameLimit sends request lines at and just past rpc.MaxFrame: the one that fits is
// served, the one past it is refused with -32600 and skipped, and the connection goes on.
func TestFrameLimit(t *testing.T) {
	a := startAgent(t)
	rc := dialRaw(t, a.Socket())
	// Whitespace inside the object keeps the request valid whatever its length.
	frame := func(id, n int) string {
		head := `{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"version"`
		return head + strings.Repeat(" ", n-len(head)-1) + "}"
	}
	tests := []struct {
		name    string
		line    string
		wantErr int64
	}{
		{"small", frame(1, 100), 0},
		{"exactly MaxFrame", frame(2, rpc.MaxFrame), 0},
		{"one byte more", frame(3, rpc.MaxFrame+1), -32600},
		{"four times more", frame(4, 4*rpc.MaxFrame), -32600},
		{"exactly MaxFrame again", frame(5, rpc.MaxFrame), 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc.send(tt.line)
			r := rc.read()
			switch {
			case tt.wantErr == 0 && (r.Error != nil || string(r.ID) != itoa(i+1)):
				t.Errorf("a %d-byte request = id %s error %+v, want the version", len(tt.line), r.ID, r.Error)
			case tt.wantErr != 0 && (r.Error == nil || r.Error.Code != tt.wantErr || !strings.Contains(r.Error.Message, "longer than 1048576 bytes")):
				t.Errorf("a %d-byte request = id %s error %+v, want %d saying it is too long", len(tt.line), r.ID, r.Error, tt.wantErr)
			}
		})
	}
}

// TestConnectionLimit fills the agent's connections: the next client is told why it is
// refused and disconnected, the admitted ones are served, and a slot freed by a client that
// leaves can be taken again.
func TestConnectionLimit(t *testing.T) {
	const limit = 4
	a := startAgentWith(t, func(c *Config) { c.MaxConns = limit })
	var conns []*rawConn
	for i := range limit {
		rc := dialRaw(t, a.Socket())
		rc.send(`{"jsonrpc":"2.0","id":` + itoa(i) + `,"method":"version"}`)
		if r := rc.read(); r.Error != nil {
			t.Fatalf("connection %d of %d: %+v", i+1, limit, r.Error)
		}
		conns = append(conns, rc)
	}
	over := dialRaw(t, a.Socket())
	r := over.read()
	if r.Error == nil || r.Error.Code != -32002 || !strings.Contains(r.Error.Message, "too many connections (limit 4)") {
		t.Errorf("connection %d got %+v, want -32002 naming the limit", limit+1, r.Error)
	}
	if _, err := over.r.ReadByte(); err != io.EOF {
		t.Errorf("after the refusal, read = %v, want EOF", err)
	}
	if !strings.Contains(agentLog(t, a), "refused connection: too many connections") {
		t.Error("the refusal is not in the agent's log")
	}
	conns[0].send(`{"jsonrpc":"2.0","id":"still","method":"ps"}`)
	if r := conns[0].read(); r.Error != nil || string(r.ID) != `"still"` {
		t.Errorf("an admitted connection after the refusal: %+v", r)
	}

	conns[1].c.Close()
	waitFor(t, "a freed connection slot", func() bool {
		rc := dialRaw(t, a.Socket())
		defer rc.c.Close()
		rc.send(`{"jsonrpc":"2.0","id":1,"method":"version"}`)
		return rc.read().Error == nil
	})
}

// TestSubscriptionLimit takes every subscription one connection may hold: the next is refused
// with rpc.ErrLimit, other connections are not affected, and unsubscribing frees a place.
func TestSubscriptionLimit(t *testing.T) {
	a := startAgent(t)
	c := dialAgent(t, a)
	ctx := t.Context()
	var subs []*rpc.Subscription
	for i := range maxSubscriptionsPerConn {
		s, err := c.Subscribe(ctx, rpc.SubscribeParams{})
		if err != nil {
			t.Fatalf("Subscribe() %d of %d = %v", i+1, maxSubscriptionsPerConn, err)
		}
		subs = append(subs, s)
	}
	_, err := c.Subscribe(ctx, rpc.SubscribeParams{})
	if !errors.Is(err, rpc.ErrLimit) || !strings.Contains(err.Error(), "at most 64 subscriptions per connection") {
		t.Errorf("Subscribe() past the limit = %v, want rpc.ErrLimit naming it", err)
	}
	if _, err := dialAgent(t, a).Subscribe(ctx, rpc.SubscribeParams{}); err != nil {
		t.Errorf("Subscribe() on another connection = %v", err)
	}
	if err := subs[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, rpc.SubscribeParams{}); err != nil {
		t.Errorf("Subscribe() after an Unsubscribe = %v", err)
	}
}

// TestProcessLimit starts children up to the agent's limit: the next sleeper and the next
// forward are refused with rpc.ErrLimit, and stopping one frees a place.
func TestProcessLimit(t *testing.T) {
	const limit = 3
	a := startAgentWith(t, func(c *Config) { c.MaxProcesses = limit })
	c := dialAgent(t, a)
	ctx := t.Context()
	var pids []int
	for i := range limit {
		s, err := c.Sleeper(ctx, rpc.SleeperParams{Interval: 600})
		if err != nil {
			t.Fatalf("Sleeper() %d of %d = %v", i+1, limit, err)
		}
		pids = append(pids, s.PID)
	}
	_, err := c.Sleeper(ctx, rpc.SleeperParams{Interval: 600})
	if !errors.Is(err, rpc.ErrLimit) || !strings.Contains(err.Error(), "too many processes") {
		t.Errorf("Sleeper() past the limit = %v, want rpc.ErrLimit", err)
	}
	_, err = c.Forward(ctx, rpc.ForwardParams{KubeContext: "c", KubeNamespace: "n", KubeDeployment: "d", SQLConnection: "p:r:i", Simulate: true})
	if !errors.Is(err, rpc.ErrLimit) || !strings.Contains(err.Error(), "too many processes") {
		t.Errorf("Forward() past the limit = %v, want rpc.ErrLimit", err)
	}
	if ps, err := c.Ps(ctx); err != nil || ps.Count != limit {
		t.Errorf("Ps() at the limit = %d processes, %v; want %d", ps.Count, err, limit)
	}
	if _, err := c.Stop(ctx, rpc.StopParams{Target: itoa(pids[0])}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Sleeper(ctx, rpc.SleeperParams{Interval: 600})
	if err != nil {
		t.Fatalf("Sleeper() after a Stop = %v", err)
	}
	pids = append(pids[1:], s.PID)
	if _, err := c.Stop(ctx, rpc.StopParams{Target: "sleeper"}); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("sleeper %d alive after Stop", pid)
		}
	}
}
