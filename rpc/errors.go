package rpc

import (
	"errors"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"
)

// Standard JSON-RPC 2.0 codes, re-exported so callers need not import jsonrpc2.
const (
	CodeParseError     = jsonrpc2.CodeParseError
	CodeInvalidRequest = jsonrpc2.CodeInvalidRequest
	CodeMethodNotFound = jsonrpc2.CodeMethodNotFound
	CodeInvalidParams  = jsonrpc2.CodeInvalidParams
	CodeInternalError  = jsonrpc2.CodeInternalError
)

// rhizome's own codes, in the range JSON-RPC leaves to applications.
const (
	CodeNotFound       = -32001
	CodeLimit          = -32002
	CodeShuttingDown   = -32003
	CodePortInUse      = -32010
	CodeKubectlMissing = -32011
	CodeForwardFailed  = -32012
	CodeUnauthorized   = -32013
)

// Sentinel errors that survive the wire: the agent returns errors wrapping them, the Client
// gives back errors for which errors.Is reports the same sentinel.
var (
	ErrNotFound       = errors.New("rpc: no such process")
	ErrLimit          = errors.New("rpc: limit reached")
	ErrShuttingDown   = errors.New("rpc: agent is shutting down")
	ErrPortInUse      = errors.New("rpc: local port in use")
	ErrKubectlMissing = errors.New("rpc: kubectl not found")
	ErrForwardFailed  = errors.New("rpc: forward failed")
	ErrUnauthorized   = errors.New("rpc: peer not allowed")
	ErrInvalidParams  = errors.New("rpc: invalid params")
)

var codes = []struct {
	code int64
	err  error
}{
	{CodeNotFound, ErrNotFound},
	{CodeLimit, ErrLimit},
	{CodeShuttingDown, ErrShuttingDown},
	{CodePortInUse, ErrPortInUse},
	{CodeKubectlMissing, ErrKubectlMissing},
	{CodeForwardFailed, ErrForwardFailed},
	{CodeUnauthorized, ErrUnauthorized},
	{CodeInvalidParams, ErrInvalidParams},
}

// Error is an error reply from the agent. It unwraps to the sentinel its code stands for.
type Error struct {
	Code    int64
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel for e.Code, if there is one.
func (e *Error) Unwrap() error {
	for _, c := range codes {
		if c.code == e.Code {
			return c.err
		}
	}
	return nil
}

// WithCode marks err as standing for sentinel (one of this package's), keeping err's own
// message: the client's errors.Is(err, sentinel) holds, and the user reads err's words.
func WithCode(sentinel, err error) error { return &coded{sentinel: sentinel, err: err} }

type coded struct{ sentinel, err error }

func (c *coded) Error() string   { return c.err.Error() }
func (c *coded) Unwrap() []error { return []error{c.sentinel, c.err} }

// InvalidParams returns an error that the agent sends with code -32602.
func InvalidParams(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(format, args...))
}

// ToWire turns a handler's error into the JSON-RPC error sent to the client, choosing the code
// from the sentinel it wraps (internal error when none).
func ToWire(err error) *jsonrpc2.Error {
	var e *Error
	if errors.As(err, &e) {
		return &jsonrpc2.Error{Code: e.Code, Message: e.Message}
	}
	var je *jsonrpc2.Error
	if errors.As(err, &je) {
		return je
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &jsonrpc2.Error{Code: c.code, Message: err.Error()}
		}
	}
	return &jsonrpc2.Error{Code: CodeInternalError, Message: err.Error()}
}

// fromWire turns a jsonrpc2 error reply into an *Error; other errors pass through.
func fromWire(err error) error {
	var je *jsonrpc2.Error
	if errors.As(err, &je) {
		return &Error{Code: je.Code, Message: je.Message}
	}
	return err
}
