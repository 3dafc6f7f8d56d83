package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// ErrNoAgent means nothing answers on the socket: no agent runs there, or a dead one left its
// socket behind. Its text reads as the start of a sentence for people ("no agent answering at
// PATH: …"), not with a package prefix, because the CLI shows it as it is.
var ErrNoAgent = errors.New("no agent answering")

// ErrBadSocket means the socket path cannot be an agent's: too long, or not a socket.
var ErrBadSocket = errors.New("not an agent's socket")

// ErrNotAnswering means the agent took the connection but did not answer a request within the
// caller's deadline: it is hung or stopped (kill -STOP).
var ErrNotAnswering = errors.New("is not answering")

// Client is a typed connection to the agent. It is safe for concurrent use; Close releases it
// and ends its subscriptions.
type Client struct {
	conn   *jsonrpc2.Conn
	socket string
	pid    int // the agent's, as the kernel said when we connected; 0 when it did not say

	nextSub atomic.Int64
	nextID  atomic.Uint64 // every call's id: the client picks them, to name one in a cancel
	mu      sync.Mutex
	subs    map[int64]ender // guarded by mu
}

var _ Service = (*Client)(nil)

// Dial connects to the agent listening on socket. A missing socket or refused connection gives
// an error wrapping ErrNoAgent.
//
// Before it sends a byte, Dial checks that the socket is the user's to trust: its directory is
// the user's own (see safesocket.CheckSocket) and the process listening on it runs as the user,
// as the kernel says; otherwise the error wraps safesocket.ErrUnsafe and nothing was sent.
func Dial(ctx context.Context, socket string) (*Client, error) {
	if err := safesocket.CheckPath(socket); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSocket, err)
	}
	if err := safesocket.CheckSocket(socket); err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrNoAgent, socket, unwrapOpError(err))
	}
	uid, pid, err := safesocket.Peer(conn.(*net.UnixConn))
	if err := safesocket.CheckPeer(socket, uid, err); err != nil {
		conn.Close()
		return nil, err
	}
	c := &Client{socket: socket, pid: pid, subs: map[int64]ender{}}
	c.conn = jsonrpc2.NewConn(context.Background(), newClientStream(conn), jsonrpc2.HandlerWithError(c.handle),
		jsonrpc2.SetLogger(discardLogger{}))
	return c, nil
}

// unwrapOpError drops net.OpError's "dial unix PATH:" prefix, which repeats the socket path.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// Socket is the path the client dialled.
func (c *Client) Socket() string { return c.socket }

// PID is the agent's pid as the kernel recorded it when the client connected; 0 where the
// platform does not say.
func (c *Client) PID() int { return c.pid }

// Close ends the connection and every subscription on it.
func (c *Client) Close() error {
	err := c.conn.Close()
	if errors.Is(err, jsonrpc2.ErrClosed) {
		return nil
	}
	return err
}

// Done is closed when the connection to the agent is gone.
func (c *Client) Done() <-chan struct{} { return c.conn.DisconnectNotify() }

// call makes one request. When ctx ends first, the agent is told to give the request up (a
// cancel notification naming its id): a forward's first start, say, stops when no client waits.
func (c *Client) call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	if err := c.conn.Call(ctx, method, params, result, jsonrpc2.PickID(jsonrpc2.ID{Num: id})); err != nil {
		if ctx.Err() != nil {
			c.cancel(id)
		}
		if errors.Is(err, jsonrpc2.ErrClosed) {
			return fmt.Errorf("%s: agent closed the connection", method)
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("agent pid %d on %s %w (no answer to %s in time: hung or stopped)", c.pid, c.socket, ErrNotAnswering, method)
		}
		return fromWire(err)
	}
	return nil
}

// cancelTimeout bounds sending a cancel notification: the agent may be the reason the call
// ended.
const cancelTimeout = time.Second

// cancel tells the agent to give up request id.
func (c *Client) cancel(id uint64) {
	ctx, stop := context.WithTimeout(context.Background(), cancelTimeout)
	defer stop()
	_ = c.conn.Notify(ctx, MethodCancel, CancelParams{ID: id})
}

// Version asks the agent who it is.
func (c *Client) Version(ctx context.Context) (VersionResult, error) {
	var r VersionResult
	return r, c.call(ctx, MethodVersion, nil, &r)
}

// Sleeper starts a sleeper.
func (c *Client) Sleeper(ctx context.Context, p SleeperParams) (Started, error) {
	var r Started
	return r, c.call(ctx, MethodSleeper, p, &r)
}

// Forward asks for a forward and returns its handle once it is ready.
func (c *Client) Forward(ctx context.Context, p ForwardParams) (Handle, error) {
	var r Handle
	return r, c.call(ctx, MethodForward, p, &r)
}

// Ps lists the live processes.
func (c *Client) Ps(ctx context.Context) (PsResult, error) {
	var r PsResult
	return r, c.call(ctx, MethodPs, nil, &r)
}

// Stop stops processes by pid or name.
func (c *Client) Stop(ctx context.Context, p StopParams) (StopResult, error) {
	var r StopResult
	return r, c.call(ctx, MethodStop, p, &r)
}

// Logs returns recent lines.
func (c *Client) Logs(ctx context.Context, p LogsParams) (LogsResult, error) {
	var r LogsResult
	return r, c.call(ctx, MethodLogs, p, &r)
}

// Kube asks what the agent itself would run for a forward of p's kubeconfig and context.
func (c *Client) Kube(ctx context.Context, p KubeParams) (KubeResult, error) {
	var r KubeResult
	return r, c.call(ctx, MethodKube, p, &r)
}

// Shutdown asks the agent to stop every process and exit.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.call(ctx, MethodShutdown, nil, nil)
}

// handle receives the agent's notifications. It runs on the connection's read loop, so a
// subscriber that does not drain its channel eventually stalls this connection only, and the
// agent then drops it.
func (c *Client) handle(ctx context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	switch req.Method {
	case NotifyOutput:
		var p OutputParams
		if req.Params == nil || json.Unmarshal(*req.Params, &p) != nil {
			return nil, nil
		}
		if f, ok := c.sub(p.Subscription).(*Subscription); ok {
			f.deliver(ctx, p.Lines)
		}
	case NotifyState:
		var p StateParams
		if req.Params == nil || json.Unmarshal(*req.Params, &p) != nil {
			return nil, nil
		}
		if f, ok := c.sub(p.Subscription).(*Watch); ok {
			f.deliver(ctx, p.Changes)
		}
	case NotifyEnded:
		var p EndedParams
		if req.Params == nil || json.Unmarshal(*req.Params, &p) != nil {
			return nil, nil
		}
		if f := c.sub(p.Subscription); f != nil {
			f.end(errors.New(p.Reason))
		}
	}
	return nil, nil
}

func (c *Client) sub(id int64) ender {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[id]
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
