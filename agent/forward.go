package agent

import (
	"context"
	"errors"
	"time"

	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// Forward implements rpc.Service: it replies once the forward is ready.
func (a *Agent) Forward(ctx context.Context, p rpc.ForwardParams) (rpc.Handle, error) {
	h, err := a.forwards.Forward(ctx, toRequest(p))
	if err != nil {
		return rpc.Handle{}, forwardError(err)
	}
	return toHandle(h), nil
}

// toRequest is the forward a client asks for, every field of it.
func toRequest(p rpc.ForwardParams) forward.Request {
	return forward.Request{
		Context: p.KubeContext, Namespace: p.KubeNamespace, Deployment: p.KubeDeployment,
		SQLConnection: p.SQLConnection, LocalPort: p.LocalPort, PinPort: p.PinPort, PodPort: p.PodPort,
		ConnectCommand: p.ConnectCommand, PortPattern: p.PortPattern, Kubeconfig: p.Kubeconfig,
		Name: p.Name, Simulate: p.Simulate, Engine: p.Engine,
		ConnectWait: time.Duration(p.ConnectWait), IdleTimeout: time.Duration(p.IdleTimeout), MaxAge: time.Duration(p.MaxAge),
		Wait: time.Duration(p.Wait),
		User: p.User, PasswordCommand: p.PasswordCommand, PasswordTTL: time.Duration(p.PasswordTTL),
	}
}

func toHandle(h forward.Handle) rpc.Handle {
	return rpc.Handle{
		ConnectionString: h.ConnectionString, LocalPort: h.LocalPort, SQLConnection: h.SQLConnection, Moved: h.Moved,
		Engine: h.Engine, UnixSocket: h.UnixSocket, UnixSocketError: h.UnixSocketError, Simulated: h.Simulated, Notes: h.Notes,
	}
}

func toTraffic(t door.Traffic) rpc.Traffic {
	r := rpc.Traffic{Active: t.Active, Accepted: t.Accepted, Refused: t.Refused, BytesIn: t.BytesIn, BytesOut: t.BytesOut}
	if !t.LastActivity.IsZero() {
		last := t.LastActivity
		r.LastActivity = &last
	}
	return r
}

// forwardError gives forward's errors the rpc codes clients test for.
func forwardError(err error) error {
	if errors.Is(err, proc.ErrTooMany) || errors.Is(err, proc.ErrShutdown) {
		return mapProcErr(err) // the agent's limit or state, not the forward's fault
	}
	for _, m := range []struct{ from, to error }{
		{forward.ErrInvalid, rpc.ErrInvalidParams},
		{forward.ErrPortInUse, rpc.ErrPortInUse},
		{forward.ErrKubectlMissing, rpc.ErrKubectlMissing},
		{forward.ErrFailed, rpc.ErrForwardFailed},
	} {
		if errors.Is(err, m.from) {
			return rpc.WithCode(m.to, err)
		}
	}
	return err
}
