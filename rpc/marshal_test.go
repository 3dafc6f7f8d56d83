package rpc

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// TestMarshalLine checks that skipping json.Marshal's compaction pass for messages that
// marshal themselves changes no byte, HTML-sensitive and line-separator characters included.
func TestMarshalLine(t *testing.T) {
	params := json.RawMessage(`{"target":"<a&b>\u2028"}`)
	result := json.RawMessage(`{"text":"x < y && z > w"}`)
	req := &jsonrpc2.Request{Method: "stop", Params: &params, ID: jsonrpc2.ID{Num: 7}}
	resp := &jsonrpc2.Response{ID: jsonrpc2.ID{Str: "s", IsString: true}, Result: &result}
	respErr := &jsonrpc2.Response{ID: jsonrpc2.ID{Num: 1}, Error: &jsonrpc2.Error{Code: -32602, Message: `field "x" <bad>`}}
	for _, tt := range []struct {
		name string
		obj  any
	}{
		{"request", req},
		{"response", resp},
		{"error", respErr},
		{"plain value", map[string]string{"a": "<b>"}},
	} {
		want, err := json.Marshal(tt.obj)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalLine(tt.obj)
		if err != nil || !bytes.Equal(got, append(want, '\n')) {
			t.Errorf("marshalLine(%s) = %q, %v, want %q", tt.name, got, err, want)
		}
	}
}
