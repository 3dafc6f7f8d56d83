package agent

import (
	"strings"
	"testing"
)

// TestBadInput sends what a confused client or a person at socat might, one line at a time on
// one connection: each gets the right JSON-RPC error and the connection keeps serving.
func TestBadInput(t *testing.T) {
	a := startAgent(t)
	rc := dialRaw(t, a.Socket())
	for _, tt := range badInputs {
		t.Run(tt.name, func(t *testing.T) {
			rc.send(tt.line)
			r := rc.read()
			if r.Error == nil || r.Error.Code != tt.wantCode || !strings.Contains(r.Error.Message, tt.wantMsg) || string(r.ID) != tt.wantID {
				t.Errorf("reply to %.60q = id %s error %+v, want id %s code %d with %q", tt.line, r.ID, r.Error, tt.wantID, tt.wantCode, tt.wantMsg)
			}
		})
	}

	// A notification gets no reply, not even for an unknown method: the next line read is
	// the answer to the call after it.
	rc.send(`{"jsonrpc":"2.0","method":"launch"}`)
	rc.send(`{"jsonrpc":"2.0","method":"ps"}`)
	rc.send(`{"jsonrpc":"2.0","id":10,"method":"version"}`)
	if r := rc.read(); string(r.ID) != "10" || r.Error != nil || !strings.Contains(string(r.Result), `"protocol":1`) {
		t.Errorf("after notifications, read %+v, want the version reply with id 10", r)
	}

	// Other clients were served throughout.
	c := dialAgent(t, a)
	if _, err := c.Ps(t.Context()); err != nil {
		t.Errorf("Ps() on a second connection = %v", err)
	}
}

// badInputs are lines a confused client or a person at socat might send, with the error
// each must get.
var badInputs = []struct {
	name     string
	line     string
	wantID   string
	wantCode int64
	wantMsg  string
}{
	{"not JSON", `{"jsonrpc":"2.0","id":1,"method":`, "null", -32700, "parse error"},
	{"plain text", `hello agent`, "null", -32700, "one JSON-RPC 2.0 object per line"},
	{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ps"}]`, "null", -32600, "batch requests are not supported"},
	{"string", `"ps"`, "null", -32600, "want a JSON-RPC 2.0 object"},
	{"no method", `{"jsonrpc":"2.0","id":7}`, "7", -32600, `invalid request: no "method" field`},
	{"method not string", `{"jsonrpc":"2.0","id":11,"method":5}`, "11", -32600, `"method" must be a string`},
	{"object id", `{"jsonrpc":"2.0","id":{"a":1},"method":"ps"}`, "null", -32600, "invalid request"},
	{"unknown method", `{"jsonrpc":"2.0","id":2,"method":"launch"}`, "2", -32601, `unknown method "launch"; the agent serves: cancel, forward, kube, logs, ps,`},
	{"wrong type", `{"jsonrpc":"2.0","id":3,"method":"stop","params":{"target":5}}`, "3", -32602, `field "target" wants string, got number`},
	{"positional params", `{"jsonrpc":"2.0","id":4,"method":"stop","params":["5"]}`, "4", -32602, "want a JSON object with named fields"},
	{"unknown field", `{"jsonrpc":"2.0","id":5,"method":"ps","params":{"all":true}}`, "5", -32602, `unknown field "all"`},
	{"empty stop", `{"jsonrpc":"2.0","id":"s","method":"stop","params":{}}`, `"s"`, -32602, "stop needs a target"},
	{"flag as context", `{"jsonrpc":"2.0","id":6,"method":"forward","params":{"kube_context":"--kubeconfig=/x","kube_namespace":"n","kube_deployment":"d","sql_connection":"p:r:i"}}`, "6", -32602, `kube_context "--kubeconfig=/x" is not a Kubernetes name`},
	{"shell in command", `{"jsonrpc":"2.0","id":8,"method":"forward","params":{"kube_context":"c","kube_namespace":"n","kube_deployment":"d","sql_connection":"p:r:i","connect_command":["sh","-c","rm -rf /"]}}`, "8", -32602, "connect_command word"},
	{"huge line", `{"jsonrpc":"2.0","id":9,"method":"ps","params":{"x":"` + strings.Repeat("a", 3<<20) + `"}}`, "null", -32600, "longer than 1048576 bytes"},
}
