package agent

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// chattyLines is how many lines the chatty child prints: far more than a subscriber's queue
// (subscriberQueue) and the socket's buffer hold together. It prints them as fast as it can,
// chattyPhase at a time: a subscriber that reads can always be as little as a phase behind,
// and never more (the test signals the next phase once it has read one), while no burst can
// outrun a reading subscriber's queue, which would drop it too, stuck subscriber or not.
const (
	chattyLines = 100_000
	chattyPhase = 10_000
)

// TestStuckSubscriber subscribes a raw client that never reads again, then runs a child that
// prints chattyLines lines. The child must finish, another subscriber must get every line in
// order, the supervisor must drop the stuck subscriber instead of waiting for it, the agent
// must disconnect it, and the agent must keep answering.
func TestStuckSubscriber(t *testing.T) {
	t.Setenv(chattyEnv, itoa(chattyLines))
	t.Setenv(chattyPhaseEnv, itoa(chattyPhase))
	a := startAgent(t)
	ctx := t.Context()

	stuck := dialRaw(t, a.Socket())
	stuck.send(`{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{}}`)
	if r := stuck.read(); r.Error != nil {
		t.Fatalf("subscribe on the stuck connection: %+v", r.Error)
	}

	good := dialAgent(t, a)
	sub, err := good.Subscribe(ctx, rpc.SubscribeParams{Target: "sleeper"})
	if err != nil {
		t.Fatal(err)
	}
	started, err := good.Sleeper(ctx, rpc.SleeperParams{})
	if err != nil {
		t.Fatal(err)
	}
	next, status := 0, ""
	for status == "" {
		select {
		case batch, ok := <-sub.C():
			if !ok {
				t.Fatalf("the reading subscriber lost its subscription after %d lines: %v", next, sub.Err())
			}
			for _, l := range batch {
				switch {
				case l.ID != started.ID:
				case l.Stream == rpc.StreamStdout:
					if want := fmt.Sprintf("line %d", next); l.Text != want {
						t.Fatalf("the reading subscriber got %q, want %q", l.Text, want)
					}
					next++
					if next%chattyPhase == 0 && next < chattyLines {
						if err := syscall.Kill(started.PID, syscall.SIGUSR1); err != nil {
							t.Fatalf("signalling the next phase: %v", err)
						}
					}
				case strings.HasPrefix(l.Text, "subprocess finished"):
					status = l.Text
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the reading subscriber got %d lines, then nothing for 30s", next)
		}
	}
	if next != chattyLines || status != "subprocess finished status=0" {
		t.Errorf("the reading subscriber got %d lines and %q, want %d and status=0", next, status, chattyLines)
	}

	// Dropped: by the supervisor when its queue overflowed, or by the agent when a write to it
	// timed out, whichever came first (under the race detector the lines flow slowly enough
	// for the write timeout to win). Either way the blocked write times out and the agent
	// disconnects it, which leaves only the reading client.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a.mu.Lock()
		n := len(a.conns)
		a.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections 30s after the stuck subscriber fell behind, want 1 (the reading one)", n)
		}
	}
	if log := agentLog(t, a); !strings.Contains(log, "disconnected a client that stopped reading") {
		t.Errorf("the agent's log does not say it disconnected the stuck subscriber:\n%s", log)
	}
	if _, err := good.Ps(ctx); err != nil {
		t.Errorf("Ps() after the stuck subscriber = %v", err)
	}
	logs, err := dialAgent(t, a).Logs(ctx, rpc.LogsParams{Target: itoa(started.PID), Lines: 2})
	if err != nil || len(logs.Lines) != 2 || logs.Lines[0].Text != fmt.Sprintf("line %d", chattyLines-1) {
		t.Errorf("Logs() of the chatty child = %+v, %v; want its last line and the finish", logs.Lines, err)
	}
}
