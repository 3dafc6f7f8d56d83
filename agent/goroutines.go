package agent

import "sync"

// goroutines owns a set of goroutines and waits for them. Once Wait has begun, Go starts
// nothing more and says so, so a WaitGroup never gets an Add after its Wait may have begun.
// The zero value is ready to use; it is safe for concurrent use.
type goroutines struct {
	mu     sync.Mutex
	closed bool // guarded by mu; set by Wait
	wg     sync.WaitGroup
}

// Go runs f in a goroutine owned by g and reports true, or reports false and does nothing once
// Wait has begun.
func (g *goroutines) Go(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
	return true
}

// Wait refuses further goroutines and waits for those started. Several may wait at once.
func (g *goroutines) Wait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
