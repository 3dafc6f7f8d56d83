package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
}

type methodFunc func(ctx context.Context, svc Service, params *json.RawMessage) (any, error)

// methods maps each Service method name to a function that decodes its params strictly and
// calls it.
var methods = map[string]methodFunc{
	MethodVersion: noParams(func(ctx context.Context, s Service) (any, error) { return s.Version(ctx) }),
	MethodPs:      noParams(func(ctx context.Context, s Service) (any, error) { return s.Ps(ctx) }),
	MethodShutdown: noParams(func(ctx context.Context, s Service) (any, error) {
		return Empty{}, s.Shutdown(ctx)
	}),
	MethodSleeper: withParams(func(ctx context.Context, s Service, p SleeperParams) (any, error) { return s.Sleeper(ctx, p) }),
	MethodForward: withParams(func(ctx context.Context, s Service, p ForwardParams) (any, error) { return s.Forward(ctx, p) }),
	MethodStop:    withParams(func(ctx context.Context, s Service, p StopParams) (any, error) { return s.Stop(ctx, p) }),
	MethodLogs:    withParams(func(ctx context.Context, s Service, p LogsParams) (any, error) { return s.Logs(ctx, p) }),
}

// Dispatch decodes params for method and calls svc. Unknown methods and bad params come back
// as *Error with the standard codes, so the agent can send them as they are.
func Dispatch(ctx context.Context, svc Service, method string, params *json.RawMessage) (any, error) {
	f, ok := methods[method]
	if !ok {
		return nil, UnknownMethod(method)
	}
	return f(ctx, svc, params)
}

// UnknownMethod is the -32601 error for method, listing what the agent does serve.
func UnknownMethod(method string) error {
	names := []string{MethodSubscribe, MethodUnsubscribe}
	for name := range methods {
		names = append(names, name)
	}
	sort.Strings(names)
	return &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("unknown method %q; the agent serves: %s", method, strings.Join(names, ", "))}
}

func noParams(f func(context.Context, Service) (any, error)) methodFunc {
	return func(ctx context.Context, s Service, params *json.RawMessage) (any, error) {
		var none struct{}
		if err := DecodeParams(params, &none); err != nil {
			return nil, err
		}
		return f(ctx, s)
	}
}

func withParams[P any](f func(context.Context, Service, P) (any, error)) methodFunc {
	return func(ctx context.Context, s Service, params *json.RawMessage) (any, error) {
		var p P
		if err := DecodeParams(params, &p); err != nil {
			return nil, err
		}
		return f(ctx, s, p)
	}
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
