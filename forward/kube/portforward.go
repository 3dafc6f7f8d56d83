package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/moby/spdystream"
)

// The port-forward protocol's names (k8s.io/api/core/v1 and apimachinery's httpstream).
const (
	portForwardProtocol = "portforward.k8s.io"
	// tunnelPrefix marks a WebSocket subprotocol that carries SPDY frames (KEP-4006).
	tunnelPrefix     = "SPDY/3.1+"
	headerStreamType = "streamType"
	headerPort       = "port"
	headerRequestID  = "requestID"
	streamTypeError  = "error"
	streamTypeData   = "data"
)

// streamReplyWait bounds how long the far end may take to accept a stream.
const streamReplyWait = 30 * time.Second

// Protocol says how a session reaches the pod.
type Protocol string

const (
	WebSocket Protocol = "websocket" // SPDY frames tunnelled in WebSocket messages, kubectl's first choice
	SPDY      Protocol = "spdy"      // SPDY/3.1 straight over the upgraded connection
)

// Session is one port-forward connection to a pod through a proxy: every Dial opens a stream
// pair (data and error) in it, as kubectl does for each local connection, so that one
// stream's error or reset ends that stream only. Safe for concurrent use; Close ends it.
type Session struct {
	Pod      string
	Protocol Protocol

	conn  *spdystream.Connection
	raw   net.Conn
	ids   atomic.Int64
	done  chan struct{} // closed when the connection is over
	close sync.Once
}

// PortForward opens a session to pod, trying WebSocket first and SPDY when the WebSocket
// upgrade is refused, as kubectl does (an API server before 1.30, or RBAC that allows the
// POST's create but not the GET's get on pods/portforward). noWebSocket skips the first try
// (KUBECTL_PORT_FORWARD_WEBSOCKETS=false, as kubectl reads it).
func (p *Proxy) PortForward(ctx context.Context, namespace, pod string, noWebSocket bool) (*Session, error) {
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/portforward", url.PathEscape(namespace), url.PathEscape(pod))
	if !noWebSocket {
		raw, err := p.dialWebSocket(ctx, path)
		if err == nil {
			return newSession(pod, WebSocket, raw)
		}
		var bad *upgradeRefused
		if !errors.As(err, &bad) {
			return nil, err
		}
	}
	raw, err := p.dialSPDY(ctx, path)
	if err != nil {
		return nil, err
	}
	return newSession(pod, SPDY, raw)
}

// upgradeRefused is an upgrade that the far end answered with something other than 101.
type upgradeRefused struct{ err *APIError }

func (u *upgradeRefused) Error() string { return u.err.Error() }
func (u *upgradeRefused) Unwrap() error { return u.err }

func (p *Proxy) dialWebSocket(ctx context.Context, path string) (net.Conn, error) {
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "unix", p.socket)
		},
		Subprotocols:     []string{tunnelPrefix + portForwardProtocol},
		HandshakeTimeout: streamReplyWait,
		ReadBufferSize:   32 << 10,
		WriteBufferSize:  32 << 10,
	}
	ws, resp, err := d.DialContext(ctx, "ws://localhost"+path, nil)
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			defer resp.Body.Close()
			return nil, &upgradeRefused{readAPIError(resp)}
		}
		return nil, p.unreachable(err)
	}
	if ws.Subprotocol() != tunnelPrefix+portForwardProtocol {
		ws.Close()
		return nil, &upgradeRefused{&APIError{Status: 101, Message: fmt.Sprintf("the API server chose WebSocket subprotocol %q", ws.Subprotocol())}}
	}
	return newTunnel(ws), nil
}

// dialSPDY upgrades a connection to the proxy to SPDY/3.1 with a POST, as kubectl does.
func (p *Proxy) dialSPDY(ctx context.Context, path string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "unix", p.socket)
	if err != nil {
		return nil, p.unreachable(err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	req, _ := http.NewRequest(http.MethodPost, apiBase+path, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "SPDY/3.1")
	req.Header.Set("X-Stream-Protocol-Version", portForwardProtocol)
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, p.unreachable(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, p.unreachable(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer c.Close()
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	_ = c.SetDeadline(time.Time{})
	return &bufferedConn{Conn: c, r: br}, nil
}

// bufferedConn reads what the HTTP reader already took before the connection itself.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func newSession(pod string, proto Protocol, raw net.Conn) (*Session, error) {
	conn, err := spdystream.NewConnection(raw, false)
	if err != nil {
		raw.Close()
		return nil, err
	}
	s := &Session{Pod: pod, Protocol: proto, conn: conn, raw: raw, done: make(chan struct{})}
	go func() {
		// The pod's side never opens streams; Serve ends when the connection does.
		conn.Serve(func(st *spdystream.Stream) { _ = st.Refuse() })
		close(s.done)
	}()
	return s, nil
}

// Done is closed when the session is over: closed, or broken under it.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close ends the session and every stream in it.
func (s *Session) Close() error {
	s.close.Do(func() { s.raw.Close() })
	<-s.done
	return nil
}

// Ping proves the session alive end to end (the API server and the kubelet answer it),
// without touching the pod.
func (s *Session) Ping(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { _, err := s.conn.Ping(); errc <- err }()
	select {
	case err := <-errc:
		return err
	case <-s.done:
		return errors.New("the port-forward session ended")
	case <-ctx.Done():
		return fmt.Errorf("the port-forward session did not answer a ping: %w", ctx.Err())
	}
}

// Dial opens a connection to port in the pod: a stream pair, whose error stream says why the
// far end could not connect (nothing listens on the port, the pod is gone). Both streams are
// asked for before either answer is awaited: one round trip, not two.
func (s *Session) Dial(ctx context.Context, port int) (net.Conn, error) {
	id := strconv.FormatInt(s.ids.Add(1), 10)
	h := http.Header{}
	h.Set(headerStreamType, streamTypeError)
	h.Set(headerPort, strconv.Itoa(port))
	h.Set(headerRequestID, id)
	errStream, err := s.conn.CreateStream(h, nil, false)
	if err != nil {
		return nil, fmt.Errorf("opening a stream to pod %s: %w", s.Pod, err)
	}
	data := http.Header{}
	data.Set(headerStreamType, streamTypeData)
	data.Set(headerPort, strconv.Itoa(port))
	data.Set(headerRequestID, id)
	dataStream, err := s.conn.CreateStream(data, nil, false)
	if err != nil {
		_ = errStream.Reset()
		return nil, fmt.Errorf("opening a stream to pod %s: %w", s.Pod, err)
	}
	for _, st := range []*spdystream.Stream{errStream, dataStream} {
		if err := s.accepted(ctx, st); err != nil {
			_ = errStream.Reset()
			_ = dataStream.Reset()
			return nil, err
		}
	}
	// Nothing is written to the error stream; the far end writes at most one message.
	_ = errStream.Close()
	c := &streamConn{data: dataStream, errs: errStream, port: port, pod: s.Pod, errc: make(chan struct{})}
	go c.readError()
	return c, nil
}

// accepted waits for the far end to accept st.
func (s *Session) accepted(ctx context.Context, st *spdystream.Stream) error {
	wait := streamReplyWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if err := st.WaitTimeout(wait); err != nil {
		select {
		case <-s.done:
			return fmt.Errorf("opening a stream to pod %s: the port-forward session ended", s.Pod)
		default:
		}
		return fmt.Errorf("opening a stream to pod %s: %w", s.Pod, err)
	}
	return nil
}

// streamConn is one forwarded connection: a net.Conn over a data stream, whose error stream
// turns a far-end failure into the error of the next Read. Deadlines end the stream: they
// are for probes and for giving up on a peer, never for resuming.
type streamConn struct {
	data, errs *spdystream.Stream
	port       int
	pod        string

	errc   chan struct{} // closed once the error stream is read
	errMsg string        // what the far end said went wrong, set before errc closes

	mu     sync.Mutex
	timers [2]*time.Timer // read, write deadlines
	closed bool
}

func (c *streamConn) readError() {
	defer close(c.errc)
	msg, _ := io.ReadAll(io.LimitReader(c.errs, 4<<10))
	if len(msg) > 0 {
		c.errMsg = string(msg)
	}
}

// Read reads the pod's side. When the data stream ends, a message on the error stream (the
// pod refused the port, the pod went away) comes with the EOF: it wraps io.EOF, so that the
// end still reads as an end, and says why.
func (c *streamConn) Read(p []byte) (int, error) {
	n, err := c.data.Read(p)
	if err == io.EOF {
		select {
		case <-c.errc:
		case <-time.After(100 * time.Millisecond): // the error comes with the end, if at all
		}
		select {
		case <-c.errc:
			if c.errMsg != "" {
				return n, &StreamError{Pod: c.pod, Port: c.port, Message: c.errMsg}
			}
		default:
		}
	}
	return n, err
}

func (c *streamConn) Write(p []byte) (int, error) { return c.data.Write(p) }

// CloseWrite tells the pod's side that no more comes (a SPDY FIN), as a TCP half-close does.
func (c *streamConn) CloseWrite() error { return c.data.Close() }

// Close ends both streams (RST_STREAM): the far end drops the connection to the pod's port.
func (c *streamConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, t := range c.timers {
		if t != nil {
			t.Stop()
		}
	}
	c.mu.Unlock()
	err := c.data.Reset()
	_ = c.errs.Reset()
	return err
}

func (c *streamConn) LocalAddr() net.Addr { return streamAddr("agent") }
func (c *streamConn) RemoteAddr() net.Addr {
	return streamAddr(fmt.Sprintf("pod/%s:%d", c.pod, c.port))
}

func (c *streamConn) SetDeadline(t time.Time) error {
	c.setDeadline(0, t)
	c.setDeadline(1, t)
	return nil
}
func (c *streamConn) SetReadDeadline(t time.Time) error  { c.setDeadline(0, t); return nil }
func (c *streamConn) SetWriteDeadline(t time.Time) error { c.setDeadline(1, t); return nil }

func (c *streamConn) setDeadline(i int, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timers[i] != nil {
		c.timers[i].Stop()
		c.timers[i] = nil
	}
	if t.IsZero() || c.closed {
		return
	}
	c.timers[i] = time.AfterFunc(time.Until(t), func() { _ = c.Close() })
}

type streamAddr string

func (a streamAddr) Network() string { return "portforward" }
func (a streamAddr) String() string  { return string(a) }

// StreamError is what the far end said about one forwarded connection. It wraps io.EOF: the
// connection is over.
type StreamError struct {
	Pod     string
	Port    int
	Message string
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("pod %s port %d: %s", e.Pod, e.Port, e.Message)
}

func (e *StreamError) Unwrap() error { return io.EOF }
