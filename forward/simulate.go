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

func simulatedArgv(exe string, r Request, localPort int) []string {
	return []string{exe, SimulateCommand,
		"--context=" + r.Context, "--namespace=" + r.Namespace, "--deployment=" + r.Deployment,
		"--sql-connection=" + r.SQLConnection, "--local-port=" + strconv.Itoa(localPort)}
}

// Simulate is the simulated forward: it prints the parameters and then, every interval, the
// seed's "Forwarding localhost:L -> pod:R (iteration N)" line, and answers every connection on
// the local port with a MySQL server greeting, so clients and the readiness check see a
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

	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *localPort))
	if err != nil {
		return fmt.Errorf("listening on 127.0.0.1:%d: %w", *localPort, err)
	}
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
			// Hold the connection briefly so a client reads the greeting before the close.
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			_, _ = c.Read(make([]byte, 1))
		}()
	}
}
