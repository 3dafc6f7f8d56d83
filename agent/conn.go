package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/rhizome-dev/rhizome/rpc"
	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// admit checks the peer's uid and the connection limit, and returns the session that serves
// the connection, or nil when it is refused. A refused peer gets one JSON-RPC error line
// saying why before the connection closes, so socat users see it too.
func (a *Agent) admit(c *net.UnixConn) *session {
	uid, _, err := safesocket.Peer(c)
	if err != nil || uid != os.Getuid() {
		a.log.WithFields(logrus.Fields{"peer_uid": uid, "error": err}).Warn("refused connection from another user")
		refuse(c, rpc.CodeUnauthorized, fmt.Sprintf("agent of uid %d refuses connections from uid %d", os.Getuid(), uid))
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		c.Close()
		return nil
	}
	if len(a.conns) >= a.cfg.MaxConns {
		a.log.WithField("limit", a.cfg.MaxConns).Warn("refused connection: too many connections")
		msg := fmt.Sprintf("agent has too many connections (limit %d): close some clients and retry", a.cfg.MaxConns)
		a.refused[c] = struct{}{}
		if !a.gs.Go(func() { a.refuseLingering(c, rpc.CodeLimit, msg) }) {
			delete(a.refused, c)
			c.Close()
		}
		return nil
	}
	s := &session{agent: a, subs: map[int64]*subscription{}}
	a.conns[c] = s
	return s
}

// refuseLingering refuses c as refuse does, but first shuts down only its writing side and
// reads what the client sends for a moment, so that a client that writes its request right
// after connecting reads the refusal and then EOF, instead of failing with EPIPE. Close ends
// the wait at once.
func (a *Agent) refuseLingering(c *net.UnixConn, code int64, msg string) {
	defer func() {
		a.mu.Lock()
		delete(a.refused, c)
		a.mu.Unlock()
		c.Close()
	}()
	line, _ := json.Marshal(errorLine(nil, code, msg))
	if _, err := c.Write(append(line, '\n')); err != nil || c.CloseWrite() != nil {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.Copy(io.Discard, io.LimitReader(c, rpc.MaxFrame))
}

// lingerTimeout bounds how long a refused client may go on writing before its connection is
// closed.
const lingerTimeout = time.Second

func refuse(c net.Conn, code int64, msg string) {
	line, _ := json.Marshal(errorLine(nil, code, msg))
	_, _ = c.Write(append(line, '\n')) // one short line into a fresh socket's buffer
	c.Close()
}

// forget drops a connection that is no longer served.
func (a *Agent) forget(c net.Conn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
}

// serveConn runs one client connection until it closes. The connection's requests are
// answered first: the stream holds the client's EOF back until they are (see wireStream).
func (a *Agent) serveConn(c *net.UnixConn, s *session) {
	framer := rpc.NewLineFramer(c, rpc.MaxFrame)
	stream := &wireStream{f: framer, atEOF: s.inputEnded}
	// Not a.ctx: jsonrpc2 closes the connection when its context ends, and a graceful
	// shutdown cancels a.ctx before the last notifications and answers are out. Handlers get
	// a.ctx instead (see Handle); the connection ends when Close closes it.
	conn := jsonrpc2.NewConn(context.Background(), stream, s, jsonrpc2.SetLogger(logrusPrintf{a.log}))
	<-conn.DisconnectNotify()
	if framer.Stalled() {
		a.log.Warn("disconnected a client that stopped reading")
	}
	s.inputEnded() // in case the connection ended otherwise; a no-op after the first
	s.pumps.Wait()
	a.forget(c)
}

// session is the per-connection state: its subscriptions and its requests in flight.
type session struct {
	agent *Agent
	// requests owns the goroutines answering this connection's calls, pumps those sending
	// its subscriptions' notifications; the connection's goroutine, which the agent owns,
	// waits for both.
	requests goroutines
	pumps    goroutines

	mu       sync.Mutex
	subs     map[int64]*subscription       // guarded by mu
	eof      bool                          // guarded by mu: the client's input ended
	inFlight map[uint64]context.CancelFunc // guarded by mu: requests a cancel may give up
}

// Handle implements jsonrpc2.Handler, on the connection's read loop. Calls that answer at
// once from memory are handled right there; every other call gets its own goroutine, so a slow
// one never holds up the connection's other requests.
func (s *session) Handle(_ context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	ctx := s.agent.ctx // a request gives up when the agent shuts down, not when its client's input ends
	m, ok := rpc.LookupMethod(req.Method)
	switch {
	case !ok:
		s.reply(ctx, conn, req, nil, rpc.UnknownMethod(req.Method))
	case m.Inline:
		// version is the clients' liveness probe, where a goroutine per call would cost
		// more than the call; subscribe and unsubscribe must take effect in the order read,
		// before the client's EOF ends the subscriptions.
		s.handle(ctx, conn, req, m)
	default:
		ctx, done := s.cancellable(ctx, req)
		if !s.requests.Go(func() { defer done(); s.handle(ctx, conn, req, m) }) {
			done()
			s.reply(ctx, conn, req, nil, fmt.Errorf("%w: %s not served", rpc.ErrShuttingDown, req.Method))
		}
	}
}

// cancellable gives req a context that a cancel naming its id ends; done forgets it.
func (s *session) cancellable(parent context.Context, req *jsonrpc2.Request) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(parent)
	if req.Notif || req.ID.IsString {
		return ctx, cancel
	}
	id := req.ID.Num
	s.mu.Lock()
	if s.inFlight == nil {
		s.inFlight = map[uint64]context.CancelFunc{}
	}
	s.inFlight[id] = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		delete(s.inFlight, id)
		s.mu.Unlock()
		cancel()
	}
}

// cancelRequest gives up the request named by params, if it is still in flight.
func (s *session) cancelRequest(params *json.RawMessage) (rpc.Empty, error) {
	var p rpc.CancelParams
	if params == nil || json.Unmarshal(*params, &p) != nil {
		return rpc.Empty{}, rpc.InvalidParams("cancel takes {\"id\": N}")
	}
	s.mu.Lock()
	cancel := s.inFlight[p.ID]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return rpc.Empty{}, nil
}

func (s *session) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, m rpc.Method) {
	if !m.Conn {
		result, err := m.Call(ctx, wire{s.agent}, req.Params)
		s.reply(ctx, conn, req, result, err)
		return
	}
	switch m.Name {
	case rpc.MethodSubscribe, rpc.MethodWatch:
		open := s.subscribe
		if m.Name == rpc.MethodWatch {
			open = s.watch
		}
		sub, err := open(req.Params)
		if err != nil {
			s.reply(ctx, conn, req, nil, err)
			return
		}
		// The reply goes out before the first notification can.
		s.reply(ctx, conn, req, rpc.SubscribeResult{Subscription: sub.id}, nil)
		sub.start(&s.pumps, conn)
	case rpc.MethodUnsubscribe:
		result, err := s.unsubscribe(req.Params)
		s.reply(ctx, conn, req, result, err)
	case rpc.MethodCancel:
		result, err := s.cancelRequest(req.Params)
		s.reply(ctx, conn, req, result, err)
	default:
		s.reply(ctx, conn, req, nil, fmt.Errorf("agent: connection method %s has no handler", m.Name))
	}
}

func (s *session) reply(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, result any, err error) {
	if req.Notif {
		return // JSON-RPC: notifications get no answer, not even an error
	}
	if err != nil {
		we := rpc.ToWire(err)
		if we.Code == rpc.CodeInternalError {
			s.agent.log.WithFields(logrus.Fields{"method": req.Method, "error": err}).Warn("request failed")
		}
		_ = conn.ReplyWithError(ctx, req.ID, we)
		return
	}
	if err := conn.Reply(ctx, req.ID, result); err != nil {
		s.agent.log.WithFields(logrus.Fields{"method": req.Method, "error": err}).Debug("reply not sent")
	}
}

// inputEnded runs when no more requests can come: it ends the subscriptions, then waits
// until every request read has been answered (or given up, when the agent shuts down). It
// runs on the connection's read loop and may run again when the connection ends.
func (s *session) inputEnded() {
	s.mu.Lock()
	subs := s.subs
	s.subs = map[int64]*subscription{}
	s.eof = true
	s.mu.Unlock()
	for _, sub := range subs {
		sub.stop()
	}
	s.requests.Wait()
}

// logrusPrintf lets jsonrpc2 report protocol errors into the agent's log.
type logrusPrintf struct{ log *logrus.Logger }

func (l logrusPrintf) Printf(format string, args ...any) { l.log.Debugf(format, args...) }
