package agent

import (
	"errors"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// mapProcErr gives supervisor errors the rpc sentinel clients can test for.
func mapProcErr(err error) error {
	switch {
	case errors.Is(err, proc.ErrTooMany):
		return rpc.WithCode(rpc.ErrLimit, err)
	case errors.Is(err, proc.ErrShutdown):
		return rpc.WithCode(rpc.ErrShuttingDown, err)
	case errors.Is(err, proc.ErrNotFound):
		return rpc.WithCode(rpc.ErrNotFound, err)
	}
	return err
}
