package proc

import (
	"context"
	"testing"
)

// TestReadyCtxEndsAfterOutput checks the promise that lets a Ready hook say why a child died
// before it was ready: when its ctx ends because the child exited, all of the child's output
// is already in Lines.
func TestReadyCtxEndsAfterOutput(t *testing.T) {
	s := newSupervisor(t, Options{RingLines: 10000})
	for i := range 10 {
		seen := make(chan string, 1)
		// Much output, so that some is still in the pipes when the child exits.
		spec := helper("print", "print", "3000", "3000", "1")
		spec.Ready = func(ctx context.Context, p *Process) error {
			<-ctx.Done()
			last := ""
			if errs := texts(p.Lines(0), Stderr); len(errs) > 0 {
				last = errs[len(errs)-1]
			}
			seen <- last
			return ctx.Err()
		}
		p := start(t, s, spec)
		waitDone(t, p)
		if got := <-seen; got != "err 2999" {
			t.Fatalf("run %d: when Ready's ctx ended, the last stderr line in Lines = %q, want %q", i, got, "err 2999")
		}
	}
}
