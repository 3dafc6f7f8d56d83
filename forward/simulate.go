package forward

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/engine"
)

// SimulateCommand is the hidden subcommand of the rhizome binary that runs a simulated forward.
const SimulateCommand = "_simulate-forward"

// simulatedArgv runs the simulation as the back end of a forward, on the private socket
// socket.
func simulatedArgv(exe string, r Request, socket string) []string {
	return []string{exe, SimulateCommand,
		"--context=" + r.Context, "--namespace=" + r.Namespace, "--deployment=" + r.Deployment,
		"--sql-connection=" + r.SQLConnection, "--socket=" + socket,
		"--engine=" + r.engine().Name}
}

// Simulate is the simulated forward, a back end in place of a pod: it listens on a private
// Unix socket that the agent chose (never a TCP port: nothing but the front door listens),
// says so once, and answers every connection with the first step of its engine's protocol
// (see engine.SimulatedServer), so clients and the readiness check see a database-shaped peer
// without any cluster. It runs until ctx ends.
func Simulate(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(SimulateCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kubeContext := fs.String("context", "", "")
	namespace := fs.String("namespace", "", "")
	deployment := fs.String("deployment", "", "")
	instance := fs.String("sql-connection", "", "")
	socket := fs.String("socket", "", "")
	engineName := fs.String("engine", env.DefaultEngine, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	eng, err := env.LookupEngine(*engineName)
	if err != nil {
		return err
	}
	if *socket == "" {
		return errors.New("no --socket to serve on")
	}
	// The socket's directory is the agent's private one; a socket left there by a killed
	// simulation is ours to replace.
	_ = os.Remove(*socket)
	l, err := net.Listen("unix", *socket)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "simulated forward: kube_context=%s kube_namespace=%s kube_deployment=%s\n", *kubeContext, *namespace, *deployment)
	fmt.Fprintf(out, "simulated forward: %s answers as %s on the agent's private socket\n", *instance, eng.Title)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Close() // removes the socket
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveSimulated(l, engine.SimulatedServer(eng.Name))
	}()
	<-ctx.Done()
	return nil
}

// serveSimulated runs serve for every connection, until l is closed.
func serveSimulated(l net.Listener, serve engine.Server) {
	var connID atomic.Uint32
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go func() { // not waited for: each ends by its deadline, or with the process
			defer c.Close()
			// Hold a connection until the client goes, or for a MySQL server's default
			// connect_timeout (10 s) if it never answers.
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			serve(c, connID.Add(1))
		}()
	}
}
