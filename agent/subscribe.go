package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// subscriberQueue is how many lines may wait for a subscriber before it counts as lagging and
// is dropped.
const subscriberQueue = 1 << 16

// maxSubscriptionsPerConn keeps one client from pinning unbounded agent memory.
const maxSubscriptionsPerConn = 64

// subscription pumps one proc.Subscription (output lines) or one proc.StateWatch (state
// changes) to one client as notifications.
type subscription struct {
	id     int64
	agent  *Agent
	lines  *proc.Subscription // for subscribe
	states *proc.StateWatch   // for watch
}

// watchQueue is how many state changes may wait for a watcher before it is dropped.
const watchQueue = 4096

func (s *session) subscribe(params *json.RawMessage) (*subscription, error) {
	var p rpc.SubscribeParams
	if err := rpc.DecodeParams(params, &p); err != nil {
		return nil, err
	}
	filter, err := s.agent.lineFilter(p.Target)
	if err != nil {
		return nil, err
	}
	return s.add(p.Subscription, func(sub *subscription) {
		sub.lines = s.agent.sup.Subscribe(filter, subscriberQueue)
	})
}

func (s *session) watch(params *json.RawMessage) (*subscription, error) {
	var p rpc.WatchParams
	if err := rpc.DecodeParams(params, &p); err != nil {
		return nil, err
	}
	return s.add(p.Subscription, func(sub *subscription) {
		sub.states = s.agent.sup.WatchStates(watchQueue)
	})
}

// add registers a subscription under the client's id (0: the lowest free one), opened by
// open once the id is known to be free.
func (s *session) add(id int64, open func(*subscription)) (*subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eof {
		return nil, fmt.Errorf("%w: the connection's input has ended", rpc.ErrShuttingDown)
	}
	if len(s.subs) >= maxSubscriptionsPerConn {
		return nil, fmt.Errorf("%w: at most %d subscriptions per connection", rpc.ErrLimit, maxSubscriptionsPerConn)
	}
	if id == 0 {
		id = int64(len(s.subs)) + 1
		for s.subs[id] != nil {
			id++
		}
	}
	if s.subs[id] != nil {
		return nil, rpc.InvalidParams("subscription %d already exists on this connection", id)
	}
	sub := &subscription{id: id, agent: s.agent}
	open(sub)
	s.subs[id] = sub
	return sub, nil
}

func (s *session) unsubscribe(params *json.RawMessage) (any, error) {
	var p rpc.UnsubscribeParams
	if err := rpc.DecodeParams(params, &p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	sub := s.subs[p.Subscription]
	delete(s.subs, p.Subscription)
	s.mu.Unlock()
	if sub == nil {
		return nil, fmt.Errorf("%w: no subscription %d on this connection", rpc.ErrNotFound, p.Subscription)
	}
	sub.stop()
	return rpc.Empty{}, nil
}

// start pumps to the client until the subscription or the connection ends, in a goroutine of
// pumps (the session's). A client that stops reading blocks only this pump; the supervisor drops the
// subscription as lagging once its queue is full, and the framer's write deadline ends the
// connection.
func (sub *subscription) start(pumps *goroutines, conn *jsonrpc2.Conn) {
	pump := sub.pumpLines
	if sub.states != nil {
		pump = sub.pumpStates
	}
	if !pumps.Go(func() { pump(sub.agent.ctx, conn) }) {
		sub.stop() // the connection or the agent is closing
	}
}

func (sub *subscription) pumpLines(ctx context.Context, conn *jsonrpc2.Conn) {
	for batch := range sub.lines.C() {
		if err := sub.send(ctx, conn, batch); err != nil {
			sub.lines.Close()
			for range sub.lines.C() {
			}
			return
		}
	}
	sub.ended(ctx, conn, sub.lines.Err())
}

// maxStateBatch bounds the changes one notification carries.
const maxStateBatch = 256

func (sub *subscription) pumpStates(ctx context.Context, conn *jsonrpc2.Conn) {
	for ch := range sub.states.C() {
		// Send what has piled up meanwhile in the same notification.
		batch := []rpc.StateChange{sub.agent.toStateChange(ch)}
	more:
		for len(batch) < maxStateBatch {
			select {
			case ch, ok := <-sub.states.C():
				if !ok {
					break more
				}
				batch = append(batch, sub.agent.toStateChange(ch))
			default:
				break more
			}
		}
		if err := conn.Notify(ctx, rpc.NotifyState, rpc.StateParams{Subscription: sub.id, Changes: batch}); err != nil {
			sub.states.Close()
			for range sub.states.C() {
			}
			return
		}
	}
	sub.ended(ctx, conn, sub.states.Err())
}

// ended tells the client why the agent ended the subscription; a nil err (the client's own
// unsubscribe, or its EOF) needs no word.
func (sub *subscription) ended(ctx context.Context, conn *jsonrpc2.Conn, err error) {
	if err == nil {
		return
	}
	reason := err.Error()
	switch {
	case errors.Is(err, proc.ErrLagging):
		sub.agent.log.WithField("subscription", sub.id).Warn("dropped a subscriber that fell behind")
		reason = "subscriber fell behind and was dropped; resubscribe to continue"
	case errors.Is(err, proc.ErrShutdown):
		reason = "the agent is shutting down"
	}
	_ = conn.Notify(ctx, rpc.NotifyEnded, rpc.EndedParams{Subscription: sub.id, Reason: reason})
}

func (sub *subscription) stop() {
	if sub.lines != nil {
		sub.lines.Close()
	}
	if sub.states != nil {
		sub.states.Close()
	}
}

// notifyBytes is roughly how much line text one notification carries. One pipe read can
// hold thousands of lines; sent as one notification it would make a megabyte-long line,
// slow for the client to take in whole.
const notifyBytes = 128 << 10

// send notifies the client of batch, in notifications of about notifyBytes of text each.
func (sub *subscription) send(ctx context.Context, conn *jsonrpc2.Conn, batch []proc.Line) error {
	for len(batch) > 0 {
		n, size := 0, 0
		for n < len(batch) && (n == 0 || size+len(batch[n].Text) <= notifyBytes) {
			size += len(batch[n].Text) + 64 // the JSON around each line's text
			n++
		}
		if err := conn.Notify(ctx, rpc.NotifyOutput, rpc.OutputParams{Subscription: sub.id, Lines: toLogLines(batch[:n])}); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}
