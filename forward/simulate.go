package forward

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SimulateCommand is the hidden subcommand of the rhizome binary that runs a simulated forward.
const SimulateCommand = "_simulate-forward"

// simulatedRemotePort is the pod port the simulation pretends the proxy listens on, as the
// seed's simulation printed it.
const simulatedRemotePort = 3307

// simulatedArgv runs the simulation as the back end behind the front door on localPort.
func simulatedArgv(exe string, r Request, localPort int) []string {
	return []string{exe, SimulateCommand,
		"--context=" + r.Context, "--namespace=" + r.Namespace, "--deployment=" + r.Deployment,
		"--sql-connection=" + r.SQLConnection, "--local-port=" + strconv.Itoa(localPort)}
}

// Simulate is the simulated forward, a back end in place of kubectl port-forward: it listens
// on a free loopback port and names it in kubectl's banner ("Forwarding from 127.0.0.1:N ->
// 3307"), prints the parameters and then, every interval, the seed's "Forwarding localhost:L ->
// pod:R (iteration N)" line (L is the front door's port, --local-port), and answers every
// connection with a MySQL server greeting, so clients and the readiness check see a
// database-shaped peer without any cluster. It runs until ctx ends.
func Simulate(ctx context.Context, args []string, out io.Writer, interval time.Duration) error {
	fs := flag.NewFlagSet(SimulateCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kubeContext := fs.String("context", "", "")
	namespace := fs.String("namespace", "", "")
	deployment := fs.String("deployment", "", "")
	instance := fs.String("sql-connection", "", "")
	localPort := fs.Int("local-port", defaultLocalPort, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(out, "simulated forward: kube_context=%s kube_namespace=%s kube_deployment=%s\n", *kubeContext, *namespace, *deployment)
	fmt.Fprintf(out, "simulated forward: sql_connection=%s local_port=%d\n", *instance, *localPort)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening on loopback: %w", err)
	}
	fmt.Fprintf(out, "Forwarding from %s -> %d\n", l.Addr(), simulatedRemotePort)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveGreetings(l)
	}()

	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 1; ; i++ {
		fmt.Fprintf(out, "Forwarding localhost:%d -> pod:%d (iteration %d)\n", *localPort, simulatedRemotePort, i)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// serveGreetings greets every connection and closes it, until l is closed.
func serveGreetings(l net.Listener) {
	var connID atomic.Uint32
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write(AppendGreeting(nil, "8.0.0-rhizome-simulated", connID.Add(1)))
			// Hold the connection until the client goes, or for a MySQL server's default
			// connect_timeout (10 s) if it never answers the greeting.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _ = c.Read(make([]byte, 1))
		}()
	}
}
