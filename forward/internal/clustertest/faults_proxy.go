package clustertest

// StopProxies ends every in-pod proxy while the pod stays Running, as a proxy that crashed or
// was killed would: its port closes and its connections drop, its announcement stays in the
// pod's log, and the connection script starts it again when it is next exec'd.
func (c *Cluster) StopProxies() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	for _, p := range c.proxies {
		p.stop()
	}
	return nil
}

// ResetLatestConnection ends the MariaDB proxy's newest open connection with a TCP reset, as
// a process in the pod that crashes would: the port-forward's far end reads "connection reset
// by peer" on that connection alone.
func (c *Cluster) ResetLatestConnection() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return c.proxies[0].resetLatest()
}
