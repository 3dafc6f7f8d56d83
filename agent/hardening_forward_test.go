package agent

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeKubectl writes a kubectl stand-in that records each call's arguments in dir/calls and
// then runs body (sh). It returns the calls file and the stand-in's path.
func fakeKubectl(t *testing.T, body string) (calls, path string) {
	t.Helper()
	dir := shortDir(t)
	calls = filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >> " + calls + "\n" + body + "\n"
	path = filepath.Join(dir, "kubectl")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return calls, path
}

// TestForwardRefusesTricks sends forward requests whose names kubectl would read as flags, or
// that carry shell, path or log tricks, over a real socket: each is refused with -32602 naming
// the field, and no process is started, not even kubectl. A valid request afterwards does
// reach kubectl, which shows the check would have seen a call.
func TestForwardRefusesTricks(t *testing.T) {
	calls, kubectl := fakeKubectl(t, `echo 'error: context "ctx" does not exist' >&2; exit 1`)
	a := startAgent(t, withKubectl(kubectl))
	rc := dialRaw(t, a.Socket())
	valid := map[string]any{"kube_context": "ctx", "kube_namespace": "ns", "kube_deployment": "dep", "sql_connection": "proj:region:inst"}
	tests := []struct {
		name   string
		params map[string]any
		want   string // in the error message
	}{
		{"context as a flag", map[string]any{"kube_context": "--kubeconfig=/etc/shadow"}, "kube_context"},
		{"context as a short flag", map[string]any{"kube_context": "-v=9"}, "kube_context"},
		{"namespace as a flag", map[string]any{"kube_namespace": "--all-namespaces"}, "kube_namespace"},
		{"namespace -A", map[string]any{"kube_namespace": "-A"}, "kube_namespace"},
		{"deployment as a flag", map[string]any{"kube_deployment": "--as=system:admin"}, "kube_deployment"},
		{"deployment with a slash", map[string]any{"kube_deployment": "x/../../pod"}, "kube_deployment"},
		{"deployment path", map[string]any{"kube_deployment": "/etc/passwd"}, "kube_deployment"},
		{"context with a semicolon", map[string]any{"kube_context": "ctx;touch /tmp/pwned"}, "kube_context"},
		{"context with command substitution", map[string]any{"kube_context": "$(id)"}, "kube_context"},
		{"namespace with backquotes", map[string]any{"kube_namespace": "`id`"}, "kube_namespace"},
		{"context with a space", map[string]any{"kube_context": "ctx --insecure-skip-tls-verify"}, "kube_context"},
		{"context with a newline", map[string]any{"kube_context": "ctx\n--token=x"}, "kube_context"},
		{"context with a NUL", map[string]any{"kube_context": "ctx\x00x"}, "kube_context"},
		{"empty deployment", map[string]any{"kube_deployment": ""}, "kube_deployment"},
		{"missing namespace", map[string]any{"kube_namespace": nil}, "kube_namespace"},
		{"overlong context", map[string]any{"kube_context": strings.Repeat("c", 300)}, "kube_context"},
		{"instance as a flag", map[string]any{"sql_connection": "--port=1"}, "sql_connection"},
		{"instance with a pipe", map[string]any{"sql_connection": "p:r:i|sh"}, "sql_connection"},
		{"instance with a space", map[string]any{"sql_connection": "p:r:i --x"}, "sql_connection"},
		{"instance path", map[string]any{"sql_connection": "../../p:r:i"}, "sql_connection"},
		{"command word with a shell", map[string]any{"connect_command": []string{"/bin/sh", "-c", "id; id"}}, "connect_command"},
		{"command as a flag", map[string]any{"connect_command": []string{"--help"}}, "connect_command"},
		{"command with a redirect", map[string]any{"connect_command": []string{"proxy", ">/tmp/x"}}, "connect_command"},
		{"command with a glob", map[string]any{"connect_command": []string{"proxy", "*"}}, "connect_command"},
		{"command with an empty word", map[string]any{"connect_command": []string{"proxy", ""}}, "connect_command"},
		{"command with a variable", map[string]any{"connect_command": []string{"proxy", "$HOME"}}, "connect_command"},
		{"kubeconfig with a semicolon", map[string]any{"kubeconfig": "/tmp/k;id"}, "kubeconfig"},
		{"kubeconfig with a space", map[string]any{"kubeconfig": "/tmp/k --token=x"}, "kubeconfig"},
		{"bad port pattern", map[string]any{"port_pattern": "("}, "port_pattern"},
		{"port pattern without a group", map[string]any{"port_pattern": "Listening"}, "port_pattern"},
		{"negative port", map[string]any{"local_port": -1}, "local_port"},
		{"port past 65535", map[string]any{"local_port": 70000}, "local_port"},
		{"name forging a log line", map[string]any{"name": "x] pid=1\n12:00:00 agent stopped [agent"}, "name"},
		{"name with an escape sequence", map[string]any{"name": "x\x1b]0;owned\x07"}, "name"},
		{"simulated, context as a flag", map[string]any{"simulate": true, "kube_context": "--x"}, "kube_context"},
		{"simulated, instance as a flag", map[string]any{"simulate": true, "sql_connection": "-p:r:i"}, "sql_connection"},
		{"wrong type", map[string]any{"local_port": "3306; id"}, "local_port"},
		{"unknown field", map[string]any{"argv": []string{"/bin/sh"}}, "argv"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := maps.Clone(valid)
			for k, v := range tt.params {
				if v == nil {
					delete(params, k)
				} else {
					params[k] = v
				}
			}
			line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": i, "method": "forward", "params": params})
			if err != nil {
				t.Fatal(err)
			}
			rc.send(string(line))
			r := rc.read()
			if r.Error == nil || r.Error.Code != -32602 || !strings.Contains(r.Error.Message, tt.want) || string(r.ID) != itoa(i) {
				t.Errorf("forward(%s) = id %s error %+v, want id %d code -32602 naming %s", line, r.ID, r.Error, i, tt.want)
			}
		})
	}

	ps, err := dialAgent(t, a).Ps(t.Context())
	if err != nil || ps.Count != 0 {
		t.Errorf("Ps() after the refused forwards = %+v, %v; want nothing started", ps, err)
	}
	if b, err := os.ReadFile(calls); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kubectl was run for a refused forward: %q, %v", b, err)
	}

	// The control: a valid request does run kubectl, which fails.
	rc.send(`{"jsonrpc":"2.0","id":"ok","method":"forward","params":{"kube_context":"ctx","kube_namespace":"ns","kube_deployment":"dep","sql_connection":"proj:region:inst"}}`)
	_ = rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if r := rc.read(); r.Error == nil || r.Error.Code != -32012 || !strings.Contains(r.Error.Message, `context "ctx" does not exist`) {
		t.Errorf("valid forward with a failing kubectl = %+v, want -32012 with kubectl's words", r.Error)
	}
	if b, err := os.ReadFile(calls); err != nil || !strings.Contains(string(b), "--context=ctx proxy --unix-socket=") {
		t.Errorf("kubectl calls for the valid forward = %q, %v; want the context's kubectl proxy run", b, err)
	}
}
