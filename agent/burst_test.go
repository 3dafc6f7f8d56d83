package agent

import (
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// TestSubscriberOverTheWireGetsABurst has seq print 50,000 short lines at once — pipe reads
// of thousands of lines each — to a client subscribed over the socket, which must get every
// line, in order, and keep its subscription. (One notification per pipe read used to exceed
// the client's frame limit and cost it the connection.)
func TestSubscriberOverTheWireGetsABurst(t *testing.T) {
	const lines = 50_000
	a := startAgent(t)
	client := dialAgent(t, a)
	sub, err := client.Subscribe(t.Context(), rpc.SubscribeParams{Target: "seq"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.sup.Start(t.Context(), proc.Spec{Name: "seq", Argv: []string{"seq", "0", itoa(lines - 1)}}); err != nil {
		t.Fatal(err)
	}
	next := 0
	timeout := time.After(60 * time.Second)
	for {
		select {
		case batch, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription ended after %d lines: %v", next, sub.Err())
			}
			for _, l := range batch {
				switch {
				case l.Stream == rpc.StreamEvent && l.Text == "subprocess finished status=0":
					if next != lines {
						t.Fatalf("child finished after %d lines reached the client, want %d", next, lines)
					}
					return
				case l.Stream == rpc.StreamStdout:
					if want := itoa(next); l.Text != want {
						t.Fatalf("line %d = %q, want %q", next, l.Text, want)
					}
					next++
				}
			}
		case <-timeout:
			t.Fatalf("got %d of %d lines, then nothing", next, lines)
		}
	}
}
