// Package kube is a forward's Kubernetes side: one `kubectl proxy --unix-socket` per kubeconfig
// and context (kubectl keeps the credentials: kubeconfig, exec plugins, token refresh,
// proxies), and, through its private socket, the API calls a forward needs (the deployment's
// pods and their watch, the API server's readiness) and port-forward sessions that the agent
// speaks itself: SPDY, tunnelled in WebSocket where the API server takes it. Nothing here
// listens on a TCP port.
//
// It knows nothing of forwards, doors or engines; the forward package composes it.
package kube

import (
	"errors"
	"fmt"
	"strings"
)

// Target is what one kubectl proxy serves: a kubeconfig ("" for kubectl's default) and a
// context in it.
type Target struct {
	Kubeconfig string
	Context    string
}

// APIError is an answer of the API server, or of kubectl proxy in its place, that is not a
// success. Its text reads as kubectl's ("message (Reason)"), so that env.Diagnose, which knows
// kubectl's words, reads it the same way.
type APIError struct {
	Status  int    // the HTTP status
	Reason  string // the Status object's reason (Forbidden, NotFound, …), or the HTTP status text
	Message string // the Status object's message, else the body's first line
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = fmt.Sprintf("the API server answered %d", e.Status)
	}
	if e.Reason == "" || strings.Contains(msg, "("+e.Reason+")") {
		return msg
	}
	return fmt.Sprintf("%s (%s)", msg, e.Reason)
}

// IsNotFound reports whether err is the API server's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == 404
}
