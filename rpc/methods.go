// Package rpc is rhizome's wire contract: the JSON-RPC 2.0 method names, their params and
// results, the error codes, the protocol version, the line framing and the typed Client that
// the CLI and Go code use to talk to the agent.
//
// Everything that crosses the agent's socket is defined here and nowhere else, so the agent
// and every client agree by construction.
package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// ProtocolVersion is bumped whenever a method or type changes incompatibly. A client that sees
// an agent with another version asks the user to restart the agent.
const ProtocolVersion = 1

// Method names served by the agent.
const (
	MethodVersion     = "version"
	MethodSleeper     = "sleeper"
	MethodForward     = "forward"
	MethodPs          = "ps"
	MethodStop        = "stop"
	MethodLogs        = "logs"
	MethodSubscribe   = "subscribe"
	MethodWatch       = "watch"
	MethodUnsubscribe = "unsubscribe"
	MethodShutdown    = "shutdown"
	MethodCancel      = "cancel"
	MethodKube        = "kube"
)

// Notifications sent by the agent to a subscribed client.
const (
	// NotifyOutput carries a batch of output lines (OutputParams).
	NotifyOutput = "output"
	// NotifyState carries state changes of processes (StateParams).
	NotifyState = "state"
	// NotifyEnded says a subscription ended from the agent's side (EndedParams).
	NotifyEnded = "subscription_ended"
)

// Method is one entry of the method table: what the agent serves under Name, what it takes
// and gives back, and how the agent answers it.
type Method struct {
	Name   string
	Params any    // a zero value of the params type; nil when the method takes none
	Result any    // a zero value of the result type
	Doc    string // one line for people
	// Inline methods are answered on the connection's read loop, in the order read: they
	// answer at once from memory, and subscriptions must start before a later EOF ends them.
	Inline bool
	// Conn methods act on the connection (subscriptions) and are not part of Service: the
	// agent answers them itself.
	Conn bool

	call methodFunc
}

type methodFunc func(ctx context.Context, svc Service, params *json.RawMessage) (any, error)

// Methods is the method table: the agent's dispatch, the unknown-method error and the
// README's list of methods all derive from it.
var Methods = []Method{
	{Name: MethodVersion, Result: VersionResult{}, Inline: true, Doc: "who the agent is: version, protocol, pid, socket",
		call: noParams(func(ctx context.Context, s Service) (any, error) { return s.Version(ctx) })},
	{Name: MethodSleeper, Params: SleeperParams{}, Result: Started{}, Doc: "start a sleeper, the test process that prints 0 to 4",
		call: withParams(func(ctx context.Context, s Service, p SleeperParams) (any, error) { return s.Sleeper(ctx, p) })},
	{Name: MethodForward, Params: ForwardParams{}, Result: Handle{}, Doc: "a ready local port to a database behind a pod",
		call: withParams(func(ctx context.Context, s Service, p ForwardParams) (any, error) { return s.Forward(ctx, p) })},
	{Name: MethodPs, Result: PsResult{}, Doc: "the live processes",
		call: noParams(func(ctx context.Context, s Service) (any, error) { return s.Ps(ctx) })},
	{Name: MethodStop, Params: StopParams{}, Result: StopResult{}, Doc: "stop processes by pid or name",
		call: withParams(func(ctx context.Context, s Service, p StopParams) (any, error) { return s.Stop(ctx, p) })},
	{Name: MethodLogs, Params: LogsParams{}, Result: LogsResult{}, Doc: "recent output lines",
		call: withParams(func(ctx context.Context, s Service, p LogsParams) (any, error) { return s.Logs(ctx, p) })},
	{Name: MethodSubscribe, Params: SubscribeParams{}, Result: SubscribeResult{}, Inline: true, Conn: true,
		Doc: "output lines from now on, as `" + NotifyOutput + "` notifications"},
	{Name: MethodWatch, Params: WatchParams{}, Result: SubscribeResult{}, Inline: true, Conn: true,
		Doc: "state changes from now on, as `" + NotifyState + "` notifications"},
	{Name: MethodUnsubscribe, Params: UnsubscribeParams{}, Result: Empty{}, Inline: true, Conn: true,
		Doc: "end a subscription or watch"},
	{Name: MethodShutdown, Result: Empty{}, Doc: "stop every process and exit",
		call: noParams(func(ctx context.Context, s Service) (any, error) { return Empty{}, s.Shutdown(ctx) })},
	{Name: MethodKube, Params: KubeParams{}, Result: KubeResult{}, Doc: "what the agent itself would run for a forward: its kubectl, its PATH, the context's credential plugin found there or not",
		call: withParams(func(ctx context.Context, s Service, p KubeParams) (any, error) { return s.Kube(ctx, p) })},
	{Name: MethodCancel, Params: CancelParams{}, Result: Empty{}, Inline: true, Conn: true,
		Doc: "give up a request of this connection still in flight (sent as a notification by a client that stops waiting, as on Ctrl-C)"},
}

// LookupMethod returns the table's entry for name.
func LookupMethod(name string) (Method, bool) {
	for _, m := range Methods {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// Call decodes params strictly and calls the Service method m stands for. Bad params come
// back as *Error with code -32602; a Conn method is the caller's to answer.
func (m Method) Call(ctx context.Context, svc Service, params *json.RawMessage) (any, error) {
	if m.call == nil {
		return nil, fmt.Errorf("rpc: %s acts on the connection and is not a Service method", m.Name)
	}
	return m.call(ctx, svc, params)
}

// UnknownMethod is the -32601 error for method, listing what the agent does serve.
func UnknownMethod(method string) error {
	names := make([]string, 0, len(Methods))
	for _, m := range Methods {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("unknown method %q; the agent serves: %s", method, strings.Join(names, ", "))}
}

// MethodsDoc is the list of methods as the README shows it, one Markdown item per method.
func MethodsDoc() string {
	var b strings.Builder
	for _, m := range Methods {
		params := "none"
		if m.Params != nil {
			params = "`" + reflect.TypeOf(m.Params).Name() + "`"
		}
		fmt.Fprintf(&b, "- `%s` (params %s, result `%s`): %s\n", m.Name, params, reflect.TypeOf(m.Result).Name(), m.Doc)
	}
	return b.String()
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
