package engine

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/loopback"

	"github.com/rhizome-dev/rhizome/env"
)

// TestEveryEngineHasProbeAndSimulation keeps env's engine table and forward's per-engine code
// in step: an engine added there without a probe or a simulated server fails here.
func TestEveryEngineHasProbeAndSimulation(t *testing.T) {
	for _, name := range env.EngineNames() {
		w, ok := wires[name]
		if !ok || w.Exchange == nil || w.Simulate == nil {
			t.Errorf("engine %s has no wire, or one without a probe or a simulated server: %+v", name, w)
		}
	}
}

// TestLoginsAreOptional: an engine whose door logs nobody in says so with a nil Open, and
// then has no CheckLogin either; one with an Open has both.
func TestLoginsAreOptional(t *testing.T) {
	for name, w := range wires {
		if (w.Open == nil) != (w.CheckLogin == nil) {
			t.Errorf("engine %s has Open %v but CheckLogin %v: want both or neither", name, w.Open != nil, w.CheckLogin != nil)
		}
	}
	if w := wires[env.SQLServer]; w.Open != nil || w.Refuse == nil {
		t.Errorf("SQL Server's wire: Open %v, Refuse %v; want no login and a refusal", w.Open != nil, w.Refuse != nil)
	}
}

// TestProbesAgainstSimulation runs each engine's probe against its simulated server over a real
// socket, and against the other engines' servers, which must not pass for it.
func TestProbesAgainstSimulation(t *testing.T) {
	want := map[string]string{
		env.MySQL:     "8.0.0-rhizome-simulated",
		env.Postgres:  "PostgreSQL, TLS not offered",
		env.SQLServer: "SQL Server 16.0.1000, encryption not supported",
	}
	for _, server := range env.EngineNames() {
		addr := listen(t, func(c net.Conn) {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			wires[server].Simulate(c, 1)
		})
		for _, client := range env.EngineNames() {
			// Some pairs wait for each other to speak first: bound the wait.
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			got, err := ProbeFor(client)(ctx, addr)
			cancel()
			switch {
			case client == server && (err != nil || got != want[server]):
				t.Errorf("%s probe of the simulated %s = %q, %v; want %q", client, server, got, err, want[server])
			case client != server && !errors.Is(err, ErrNoGreeting):
				t.Errorf("%s probe of the simulated %s = %q, %v; want ErrNoGreeting", client, server, got, err)
			}
		}
	}
}

// TestProbesNeedAnAnswer: a server that accepts and says nothing is not ready, and neither is
// one that accepts and closes, which is how kubectl port-forward shows a dead pod side.
func TestProbesNeedAnAnswer(t *testing.T) {
	quiet := make(chan struct{})
	silent := listen(t, func(net.Conn) { <-quiet })
	t.Cleanup(func() { close(quiet) }) // before listen's cleanup waits for the handler
	closing := listen(t, func(net.Conn) {})
	for _, engine := range env.EngineNames() {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		got, err := ProbeFor(engine)(ctx, silent)
		cancel()
		if err == nil {
			t.Errorf("%s probe of a silent server = %q, want an error", engine, got)
		}
		if got, err := ProbeFor(engine)(t.Context(), closing); !errors.Is(err, ErrNoGreeting) || !strings.Contains(err.Error(), "closed before the server spoke") {
			t.Errorf("%s probe of a server that closes = %q, %v; want ErrNoGreeting saying it closed", engine, got, err)
		}
	}
}

// listen serves each connection on a loopback port with serve until the test ends.
func listen(t testing.TB, serve func(net.Conn)) string { return loopback.Serve(t, serve) }
