package clustertest

import (
	"fmt"
	"net"
)

// freePorts asks the kernel for n distinct free loopback ports. The ports are released before
// the caller binds them, so another process could take one in between; the kernel's random
// choice makes that rare enough for tests.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
