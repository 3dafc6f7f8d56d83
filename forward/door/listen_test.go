package door

import (
	"net"
	"testing"

	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// listen serves each connection on a loopback port with serve until the test ends.
func listen(t testing.TB, serve func(net.Conn)) string { return loopback.Serve(t, serve) }
