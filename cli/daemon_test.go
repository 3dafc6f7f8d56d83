package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockWithinGivesUp holds the start lock through another open file, as a hung starter
// would, and checks that the next starter gives up with a clear error instead of hanging.
func TestLockWithinGivesUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock.start")
	holder, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	waiter, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	if err := lockWithin(waiter, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "still holds "+path) {
		t.Errorf("lockWithin(held lock) = %v, want an error naming %s", err, path)
	}
	holder.Close() // releases the lock
	other, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := lockWithin(other, 5*time.Second); err != nil {
		t.Errorf("lockWithin(free lock) = %v, want nil", err)
	}
}
