package agent

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHalfCloseAnswered sends requests, then closes the write side of the socket as `echo … |
// socat` does, and reads until the agent closes: every request gets its reply first, for every
// method, and the connection then ends (subscriptions included) instead of lingering.
func TestHalfCloseAnswered(t *testing.T) {
	t.Setenv("SLEEP_OVERRIDE", "0.02")
	a := startAgent(t)
	for _, tt := range []struct {
		name  string
		lines []string
		want  []string // per reply, in order: `id:` then a substring of the result or error
	}{
		{"version", []string{`{"jsonrpc":"2.0","id":1,"method":"version"}`}, []string{`1:"protocol":1`}},
		{"ps", []string{`{"jsonrpc":"2.0","id":2,"method":"ps"}`}, []string{`2:"running":`}},
		{"sleeper", []string{`{"jsonrpc":"2.0","id":3,"method":"sleeper","params":{"interval":30}}`}, []string{`3:"name":"sleeper"`}},
		{"logs", []string{`{"jsonrpc":"2.0","id":4,"method":"logs","params":{"target":"sleeper"}}`}, []string{`4:"lines":[`}},
		{"stop", []string{`{"jsonrpc":"2.0","id":5,"method":"stop","params":{"target":"sleeper"}}`}, []string{`5:"state":"stopped"`}},
		{"forward refused", []string{`{"jsonrpc":"2.0","id":6,"method":"forward","params":{"kube_context":"-x"}}`}, []string{`6:-32602`}},
		{"subscribe", []string{`{"jsonrpc":"2.0","id":7,"method":"subscribe","params":{"subscription":9}}`}, []string{`7:"subscription":9`}},
		{"watch", []string{`{"jsonrpc":"2.0","id":8,"method":"watch"}`}, []string{`8:"subscription":1`}},
		{"unsubscribe", []string{
			`{"jsonrpc":"2.0","id":9,"method":"watch","params":{"subscription":4}}`,
			`{"jsonrpc":"2.0","id":10,"method":"unsubscribe","params":{"subscription":4}}`,
		}, []string{`9:"subscription":4`, `10:{}`}},
		{"unknown", []string{`{"jsonrpc":"2.0","id":11,"method":"launch"}`}, []string{`11:-32601`}},
		{"several", []string{
			`{"jsonrpc":"2.0","id":12,"method":"ps"}`,
			`{"jsonrpc":"2.0","id":13,"method":"logs"}`,
			`{"jsonrpc":"2.0","id":14,"method":"version"}`,
		}, []string{`12:"count"`, `13:"lines"`, `14:"protocol"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := halfClosed(t, a.Socket(), tt.lines)
			if len(got) != len(tt.want) {
				t.Fatalf("replies after CloseWrite = %q, want %d of them", got, len(tt.want))
			}
			// Replies from goroutines may come in any order; match them by id.
			for _, w := range tt.want {
				id, text, _ := strings.Cut(w, ":")
				if r, ok := got[id]; !ok || !strings.Contains(r, text) {
					t.Errorf("reply %s = %q, want it to contain %q", id, r, text)
				}
			}
		})
	}
	// shutdown last: it is answered, then the agent closes (the daemon's loop would now call
	// Shutdown; here the test's cleanup does).
	got := halfClosed(t, a.Socket(), []string{`{"jsonrpc":"2.0","id":20,"method":"shutdown"}`})
	if r := got["20"]; r != "{}" {
		t.Errorf("shutdown's reply = %q, want {}", r)
	}
	select {
	case <-a.ShutdownRequested():
	default:
		t.Error("shutdown answered but not requested")
	}
}

// halfClosed sends lines on a fresh connection, closes its write side and reads until the
// agent closes the connection. It returns each reply's result or error code by id; a
// notification would fail the test, since nothing that starts one sends any here.
func halfClosed(t *testing.T, socket string, lines []string) map[string]string {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, strings.Join(lines, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.UnixConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := map[string]string{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		var r response
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("reply %q: %v", sc.Text(), err)
		}
		if r.Method != "" {
			continue // output of a sleeper started by an earlier case, to a subscriber
		}
		if r.Error != nil {
			got[string(r.ID)] = itoa(int(r.Error.Code))
		} else {
			got[string(r.ID)] = string(r.Result)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading until the agent closes: %v (replies so far %q)", err, got)
	}
	return got
}
