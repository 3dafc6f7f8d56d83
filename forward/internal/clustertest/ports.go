package clustertest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// The range clusters take their ports from. scripts/test reserves it from the kernel's
// ephemeral ports (ip_local_reserved_ports), so no outgoing connection of the many a test run
// makes can take a port between freePorts and the component that binds it, which it does
// seconds later (the in-pod proxies again after every restart). Outside scripts/test the range
// still works, only without that guarantee.
const (
	clusterPortMin = 46000
	clusterPortMax = 47999
)

// handedOut remembers the ports this process gave to clusters, so that clusters started side
// by side never share one.
var (
	handedOutMu sync.Mutex
	handedOut   = map[int]bool{}
)

// freePorts returns n distinct loopback ports that are free now, from the clusters' range.
// They are released before the caller binds them.
func freePorts(n int) ([]int, error) {
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	span := clusterPortMax - clusterPortMin + 1
	start := rand.IntN(span)
	var ports []int
	for i := 0; i < span && len(ports) < n; i++ {
		port := clusterPortMin + (start+i)%span
		if handedOut[port] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // someone else's
		}
		ln.Close()
		handedOut[port] = true
		ports = append(ports, port)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("finding %d free ports: only %d free in %d-%d", n, len(ports), clusterPortMin, clusterPortMax)
	}
	return ports, nil
}
