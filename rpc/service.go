package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Service is the agent's request/response API. The agent implements it; so does Client, which
// lets one test suite run against both. Subscriptions are tied to a connection and live on
// Client alone.
type Service interface {
	Version(ctx context.Context) (VersionResult, error)
	Sleeper(ctx context.Context, p SleeperParams) (Started, error)
	Forward(ctx context.Context, p ForwardParams) (Handle, error)
	Ps(ctx context.Context) (PsResult, error)
	Stop(ctx context.Context, p StopParams) (StopResult, error)
	Logs(ctx context.Context, p LogsParams) (LogsResult, error)
	Shutdown(ctx context.Context) error
	Kube(ctx context.Context, p KubeParams) (KubeResult, error)
}

// DecodeParams decodes a request's params into v strictly: absent or null params leave v
// zero; anything but an object, unknown fields and wrong types are -32602 errors that name the
// field and what it wants.
func DecodeParams(params *json.RawMessage, v any) error {
	if params == nil {
		return nil
	}
	raw := bytes.TrimSpace(*params)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if raw[0] != '{' {
		return &Error{Code: CodeInvalidParams, Message: "invalid params: want a JSON object with named fields"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &Error{Code: CodeInvalidParams, Message: "invalid params: " + describeDecodeError(err)}
	}
	return nil
}

func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q wants %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + msg
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
