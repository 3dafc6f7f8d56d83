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

// subscription pumps one proc.Subscription to one client as NotifyOutput notifications.
type subscription struct {
	id    int64
	agent *Agent
	sub   *proc.Subscription
}

func (s *session) subscribe(params *json.RawMessage) (*subscription, error) {
	var p struct {
		rpc.SubscribeParams
		Subscription int64 `json:"subscription"`
	}
	if err := rpc.DecodeParams(params, &p); err != nil {
		return nil, err
	}
	filter, err := s.agent.lineFilter(p.Target)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) >= maxSubscriptionsPerConn {
		return nil, fmt.Errorf("%w: at most %d subscriptions per connection", rpc.ErrLimit, maxSubscriptionsPerConn)
	}
	id := p.Subscription
	if id == 0 {
		id = int64(len(s.subs)) + 1
		for s.subs[id] != nil {
			id++
		}
	}
	if s.subs[id] != nil {
		return nil, rpc.InvalidParams("subscription %d already exists on this connection", id)
	}
	sub := &subscription{id: id, agent: s.agent, sub: s.agent.sup.Subscribe(filter, subscriberQueue)}
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

// start pumps lines to the client until the subscription or the connection ends. A client that
// stops reading blocks only this pump; the supervisor drops the subscription as lagging once
// its queue is full, and the write deadline of the stream ends the connection.
func (sub *subscription) start(conn *jsonrpc2.Conn) {
	sub.agent.wg.Add(1)
	go func() {
		defer sub.agent.wg.Done()
		ctx := sub.agent.ctx
		for batch := range sub.sub.C() {
			if err := sub.send(ctx, conn, batch); err != nil {
				sub.sub.Close()
				for range sub.sub.C() {
				}
				return
			}
		}
		if err := sub.sub.Err(); err != nil {
			reason := err.Error()
			if errors.Is(err, proc.ErrLagging) {
				sub.agent.log.WithField("subscription", sub.id).Warn("dropped a subscriber that fell behind")
				reason = "subscriber fell behind and was dropped; resubscribe to continue"
			}
			_ = conn.Notify(ctx, rpc.NotifyEnded, rpc.EndedParams{Subscription: sub.id, Reason: reason})
		}
	}()
}

func (sub *subscription) stop() { sub.sub.Close() }

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
