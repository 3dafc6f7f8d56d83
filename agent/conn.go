package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/sirupsen/logrus"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/rhizome-dev/rhizome/rpc"
)

// admit checks the peer's uid and the connection limit. A refused peer gets one JSON-RPC error
// line saying why before the connection closes, so socat users see it too.
func (a *Agent) admit(c *net.UnixConn) bool {
	uid, err := peerUID(c)
	if err != nil || uid != os.Getuid() {
		a.log.WithFields(logrus.Fields{"peer_uid": uid, "error": err}).Warn("refused connection from another user")
		refuse(c, rpc.CodeUnauthorized, fmt.Sprintf("agent of uid %d refuses connections from uid %d", os.Getuid(), uid))
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.conns) >= a.cfg.MaxConns {
		a.log.WithField("limit", a.cfg.MaxConns).Warn("refused connection: too many connections")
		go refuse(c, rpc.CodeLimit, fmt.Sprintf("agent has too many connections (limit %d): close some clients and retry", a.cfg.MaxConns))
		return false
	}
	a.conns[c] = struct{}{}
	return true
}

func refuse(c net.Conn, code int64, msg string) {
	line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil, "error": jsonrpc2.Error{Code: code, Message: msg}})
	_, _ = c.Write(append(line, '\n'))
	c.Close()
}

// serveConn runs one client connection until it closes, then ends its subscriptions.
func (a *Agent) serveConn(c *net.UnixConn) {
	s := &session{agent: a, subs: map[int64]*subscription{}}
	stream := rpc.NewServerStream(c)
	conn := jsonrpc2.NewConn(a.ctx, stream, s,
		jsonrpc2.SetLogger(logrusPrintf{a.log}))
	<-conn.DisconnectNotify()
	if stream.Stalled() {
		a.log.Warn("disconnected a client that stopped reading")
	}
	s.closeAll()
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
}

// session is the per-connection state: its subscriptions.
type session struct {
	agent *Agent

	mu   sync.Mutex
	subs map[int64]*subscription // guarded by mu
}

// Handle implements jsonrpc2.Handler, on the connection's read loop. Calls that answer at
// once from memory are handled right there; every other call gets its own goroutine, so a slow
// one never holds up the connection's other requests.
func (s *session) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if req.Method == rpc.MethodVersion {
		// The clients' liveness probe: a goroutine per call would cost more than the call.
		s.handle(ctx, conn, req)
		return
	}
	go s.handle(ctx, conn, req)
}

func (s *session) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	var result any
	var err error
	switch req.Method {
	case rpc.MethodSubscribe:
		var sub *subscription
		sub, err = s.subscribe(req.Params)
		if err == nil {
			// The reply goes out before the first notification can.
			s.reply(ctx, conn, req, rpc.SubscribeResult{Subscription: sub.id}, nil)
			sub.start(conn)
			return
		}
	case rpc.MethodUnsubscribe:
		result, err = s.unsubscribe(req.Params)
	case rpc.MethodShutdown:
		// The reply must be on the wire before the agent starts closing connections.
		if err = rpc.DecodeParams(req.Params, &struct{}{}); err == nil {
			s.reply(ctx, conn, req, rpc.Empty{}, nil)
			_ = s.agent.Shutdown(ctx)
			return
		}
	default:
		result, err = rpc.Dispatch(ctx, s.agent, req.Method, req.Params)
	}
	s.reply(ctx, conn, req, result, err)
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

func (s *session) closeAll() {
	s.mu.Lock()
	subs := s.subs
	s.subs = map[int64]*subscription{}
	s.mu.Unlock()
	for _, sub := range subs {
		sub.stop()
	}
}

// logrusPrintf lets jsonrpc2 report protocol errors into the agent's log.
type logrusPrintf struct{ log *logrus.Logger }

func (l logrusPrintf) Printf(format string, args ...any) { l.log.Debugf(format, args...) }
