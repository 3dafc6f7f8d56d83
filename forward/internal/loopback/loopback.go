// Package loopback gives tests a server on a loopback port of their own.
package loopback

import (
	"net"
	"sync"
	"testing"
)

// Serve serves each connection on a loopback port with serve until the test ends, and returns
// the port's address.
func Serve(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ServeOn(t, l, serve)
	return l.Addr().String()
}

// ServeOn serves each connection l accepts with serve, closing it after, until the test ends;
// then it closes l and waits for the connections' serve to return.
func ServeOn(t testing.TB, l net.Listener, serve func(net.Conn)) {
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
}
