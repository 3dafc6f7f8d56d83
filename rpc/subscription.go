package rpc

import (
	"context"
	"errors"
	"sync"
)

// Subscription receives output lines pushed by the agent. Lines are delivered in batches on C
// until the subscription ends: Close, the agent dropping it, or the connection closing. After
// C is closed, Err says why.
type Subscription struct {
	id     int64
	client *Client
	c      chan []LogLine

	once sync.Once
	done chan struct{}
	err  error // set once, before done is closed

	mu     sync.Mutex // held while sending on c, so end never closes c under a sender
	closed bool       // guarded by mu
}

// Subscribe asks the agent for output lines of p.Target (a pid or name; empty for all).
func (c *Client) Subscribe(ctx context.Context, p SubscribeParams) (*Subscription, error) {
	id := c.nextSub.Add(1)
	s := &Subscription{id: id, client: c, c: make(chan []LogLine, 256), done: make(chan struct{})}
	// Registered before the call, because the first notification may overtake our reading of
	// the reply.
	c.mu.Lock()
	c.subs[id] = s
	c.mu.Unlock()
	var r SubscribeResult
	err := c.call(ctx, MethodSubscribe, struct {
		SubscribeParams
		Subscription int64 `json:"subscription"`
	}{p, id}, &r)
	if err != nil {
		c.forget(id)
		return nil, err
	}
	go func() {
		select {
		case <-c.Done():
			s.end(errors.New("connection to the agent closed"))
		case <-s.done:
		}
	}()
	return s, nil
}

// C returns the channel of line batches; it is closed when the subscription ends.
func (s *Subscription) C() <-chan []LogLine { return s.c }

// Err says why the subscription ended; nil while it runs and after Close.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the subscription on both sides.
func (s *Subscription) Close(ctx context.Context) error {
	err := s.client.call(ctx, MethodUnsubscribe, UnsubscribeParams{Subscription: s.id}, nil)
	s.end(nil)
	return err
}

func (s *Subscription) deliver(ctx context.Context, lines []LogLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case <-s.done:
	case s.c <- lines:
	case <-ctx.Done():
	}
}

// end closes C once; the first reason wins.
func (s *Subscription) end(err error) {
	s.once.Do(func() {
		s.client.forget(s.id)
		s.err = err
		close(s.done) // releases a deliver blocked on a full c
		s.mu.Lock()
		s.closed = true
		close(s.c)
		s.mu.Unlock()
	})
}

func (c *Client) forget(id int64) {
	c.mu.Lock()
	delete(c.subs, id)
	c.mu.Unlock()
}
