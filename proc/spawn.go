package proc

import (
	"os/exec"
	"runtime"
)

// spawnReq asks the spawner to start cmd and send the result on done.
type spawnReq struct {
	cmd  *exec.Cmd
	done chan error // buffered: the spawner never waits for the reader
}

// spawner starts every child, from one OS thread that lives as long as the
// Supervisor. On Linux a child's Pdeathsig fires when the thread that forked
// it exits, not the process: forking from whatever thread a goroutine happens
// to run on would kill children whenever the runtime retires that thread.
// The thread is never unlocked, so when this goroutine returns (after every
// child is gone, see finish) the runtime ends the thread with it.
func (s *Supervisor) spawner() {
	runtime.LockOSThread()
	defer close(s.spawnerDone)
	for {
		select {
		case req := <-s.spawnc:
			req.done <- req.cmd.Start()
		case <-s.quit:
			return
		}
	}
}

// spawn starts cmd on the spawner's thread.
func (s *Supervisor) spawn(cmd *exec.Cmd) error {
	req := spawnReq{cmd: cmd, done: make(chan error, 1)}
	select {
	case s.spawnc <- req:
	case <-s.spawnerDone:
		return ErrShutdown
	}
	return <-req.done
}
