package agent

import (
	"bytes"
	"encoding/json"
	"net"
	"testing"
	"time"
)

// FuzzRequest sends arbitrary bytes down the request path of a real agent — the line codec,
// jsonrpc2 decoding, dispatch and params decoding — then a version call on the same
// connection, which must still be answered: no input may crash the agent or cost the client
// its connection. The seed corpus is in testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ps"}`,
		`{"jsonrpc":"2.0","id":1,"method":"logs","params":{"target":"sleeper","lines":-5}}`,
		`{"jsonrpc":"2.0","id":1,"method":"stop","params":{"target":""}}`,
		`{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"target":"1"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"unsubscribe","params":{"subscription":99}}`,
		`{"jsonrpc":"2.0","id":1,"method":"forward","params":{"kube_context":"c","kube_namespace":"n","kube_deployment":"d","sql_connection":"p:r:i","local_port":70000}}`,
		`[]`, `{}`, `{"id":null}`, `{"method":null}`, "\x00\xff", `{"jsonrpc":"2.0","id":1e400,"method":"ps"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Setenv("SLEEP_OVERRIDE", "0") // for the sleeper children, which inherit it
	a := startAgent(f, withKubectl("/nonexistent/kubectl"))
	f.Fuzz(func(t *testing.T, input []byte) {
		if bytes.Contains(input, []byte("shutdown")) {
			t.Skip("shutdown is meant to stop the agent")
		}
		c, err := net.Dial("unix", a.Socket())
		if err != nil {
			t.Fatalf("agent stopped answering: %v", err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		probe := `{"jsonrpc":"2.0","id":"probe","method":"version"}`
		if _, err := c.Write(append(append(input, '\n'), probe+"\n"...)); err != nil {
			t.Fatalf("writing: %v", err)
		}
		dec := json.NewDecoder(c)
		for {
			var r struct {
				ID json.RawMessage `json:"id"`
			}
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("after input %q the connection broke before the probe was answered: %v", input, err)
			}
			if string(r.ID) == `"probe"` {
				return
			}
		}
	})
}
