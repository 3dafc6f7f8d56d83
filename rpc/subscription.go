package rpc

import (
	"context"
	"errors"
	"sync"
)

// Feed receives batches the agent pushes on one subscription: output lines (Subscription) or
// state changes (Watch). Batches are delivered on C until the feed ends: Close, the agent
// dropping it, or the connection closing. After C is closed, Err says why.
type Feed[T any] struct {
	id     int64
	client *Client
	c      chan []T

	once sync.Once
	done chan struct{}
	err  error // set once, before done is closed

	mu     sync.Mutex // held while sending on c, so end never closes c under a sender
	closed bool       // guarded by mu
}

// Subscription receives output lines (see Client.Subscribe).
type Subscription = Feed[LogLine]

// Watch receives state changes of processes (see Client.Watch).
type Watch = Feed[StateChange]

// ender is what the Client's table of feeds needs of every Feed.
type ender interface{ end(error) }

// Subscribe asks the agent for output lines of p.Target (a pid or name; empty for all). The
// client chooses p.Subscription itself.
func (c *Client) Subscribe(ctx context.Context, p SubscribeParams) (*Subscription, error) {
	return openFeed[LogLine](ctx, c, func(id int64) (string, any) {
		p.Subscription = id
		return MethodSubscribe, p
	})
}

// Watch asks the agent for the state changes of every process from now on.
func (c *Client) Watch(ctx context.Context) (*Watch, error) {
	return openFeed[StateChange](ctx, c, func(id int64) (string, any) {
		return MethodWatch, WatchParams{Subscription: id}
	})
}

// openFeed registers a feed under a fresh id, then makes the call that request gives.
func openFeed[T any](ctx context.Context, c *Client, request func(id int64) (string, any)) (*Feed[T], error) {
	id := c.nextSub.Add(1)
	f := &Feed[T]{id: id, client: c, c: make(chan []T, 256), done: make(chan struct{})}
	// Registered before the call, because the first notification may overtake our reading of
	// the reply.
	c.mu.Lock()
	c.subs[id] = f
	c.mu.Unlock()
	method, params := request(id)
	var r SubscribeResult
	if err := c.call(ctx, method, params, &r); err != nil {
		c.forget(id)
		return nil, err
	}
	go func() {
		select {
		case <-c.Done():
			f.end(errors.New("connection to the agent closed"))
		case <-f.done:
		}
	}()
	return f, nil
}

// C returns the channel of batches; it is closed when the feed ends.
func (f *Feed[T]) C() <-chan []T { return f.c }

// Err says why the feed ended; nil while it runs and after Close.
func (f *Feed[T]) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

// Close ends the feed on both sides.
func (f *Feed[T]) Close(ctx context.Context) error {
	err := f.client.call(ctx, MethodUnsubscribe, UnsubscribeParams{Subscription: f.id}, nil)
	f.end(nil)
	return err
}

func (f *Feed[T]) deliver(ctx context.Context, batch []T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	select {
	case <-f.done:
	case f.c <- batch:
	case <-ctx.Done():
	}
}

// end closes C once; the first reason wins.
func (f *Feed[T]) end(err error) {
	f.once.Do(func() {
		f.client.forget(f.id)
		f.err = err
		close(f.done) // releases a deliver blocked on a full c
		f.mu.Lock()
		f.closed = true
		close(f.c)
		f.mu.Unlock()
	})
}

func (c *Client) forget(id int64) {
	c.mu.Lock()
	delete(c.subs, id)
	c.mu.Unlock()
}
