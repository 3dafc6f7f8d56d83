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
