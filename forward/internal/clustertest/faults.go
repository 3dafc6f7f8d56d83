package clustertest

import (
	"context"
	"errors"
	"fmt"
)

// The faults a forward must survive. Each changes the shared cluster; a test that uses one
// should undo it (or leave a Running pod) before it returns.

// ReplacePod stands in for a rollout: the pod's processes end (the proxy stops and its
// connections drop, and so do exec, logs and port-forward sessions with the pod), the pod is
// deleted, and a new pod of the Deployment with an empty log starts in its place. It returns
// when the new pod is Running, with KWOK running (even if StopKWOK had stopped it). As in a real
// pod, the proxy is not running there until the connection script is exec'd again.
func (c *Cluster) ReplacePod(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	for _, p := range c.proxies {
		p.stop()
	}
	// KWOK reads which pod it serves only at start. Stopping it also ends every session with the
	// old pod, as the pod's end would; kubectl port-forward then reports "lost connection to pod".
	if err := c.kwok.stop(); err != nil {
		return fmt.Errorf("replacing pod: %w", err)
	}
	if err := c.objs.deletePod(ctx, c.pod); err != nil {
		return fmt.Errorf("replacing pod: %w", err)
	}
	if err := c.newPodLocked(ctx); err != nil {
		return fmt.Errorf("replacing pod: %w", err)
	}
	return nil
}

// BreakTarget makes the pod ports behind the proxies stop answering: connections to them are
// refused (so a port-forward's connection fails) and open ones drop. The pod itself stays
// Running.
func (c *Cluster) BreakTarget() error { return c.setBroken(true) }

// RestoreTarget undoes BreakTarget: each proxy that was started answers on its port again.
func (c *Cluster) RestoreTarget() error { return c.setBroken(false) }

func (c *Cluster) setBroken(broken bool) error {
	var errs []error
	for _, p := range c.proxies {
		errs = append(errs, p.setBroken(broken))
	}
	return errors.Join(errs...)
}

// StopKWOK stops the simulated kubelet: exec, logs and port-forward fail and open port-forwards
// drop, while the pod stays Running in the API (no controller marks the node down) and the
// proxy keeps running, as a pod's processes would.
func (c *Cluster) StopKWOK() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if err := c.kwok.stop(); err != nil {
		return fmt.Errorf("stopping kwok: %w", err)
	}
	return nil
}

// StartKWOK starts the simulated kubelet again, on the same port, and returns when it answers.
func (c *Cluster) StartKWOK(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if err := c.kwok.start(ctx); err != nil {
		return fmt.Errorf("starting kwok: %w", err)
	}
	return nil
}
