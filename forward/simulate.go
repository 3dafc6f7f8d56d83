package forward

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhizome-dev/rhizome/env"
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
		"--sql-connection=" + r.SQLConnection, "--local-port=" + strconv.Itoa(localPort),
		"--engine=" + r.engine().Name}
}

// Simulate is the simulated forward, a back end in place of kubectl port-forward: it listens
// on a free loopback port and names it in kubectl's banner ("Forwarding from 127.0.0.1:N ->
// 3307"), prints the parameters and then, every interval, the seed's "Forwarding localhost:L ->
// pod:R (iteration N)" line (L is the front door's port, --local-port), and answers every
// connection with the first step of its engine's protocol (see simulatedServers), so clients
// and the readiness check see a database-shaped peer without any cluster. It runs until ctx
// ends.
func Simulate(ctx context.Context, args []string, out io.Writer, interval time.Duration) error {
	fs := flag.NewFlagSet(SimulateCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kubeContext := fs.String("context", "", "")
	namespace := fs.String("namespace", "", "")
	deployment := fs.String("deployment", "", "")
	instance := fs.String("sql-connection", "", "")
	localPort := fs.Int("local-port", 0, "")
	engineName := fs.String("engine", env.DefaultEngine, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	engine, err := env.LookupEngine(*engineName)
	if err != nil {
		return err
	}
	if *localPort == 0 {
		*localPort = engine.DefaultPort
	}
	fmt.Fprintf(out, "simulated forward: kube_context=%s kube_namespace=%s kube_deployment=%s\n", *kubeContext, *namespace, *deployment)
	fmt.Fprintf(out, "simulated forward: sql_connection=%s local_port=%d engine=%s\n", *instance, *localPort, engine.Name)

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
		serveSimulated(l, simulatedServers[engine.Name])
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

// simulatedServer plays one engine's side of a client's first exchange on c, then returns.
type simulatedServer func(c net.Conn, connID uint32)

// simulatedServers speak the first step of each engine in env's table; a test checks that
// none is missing.
var simulatedServers = map[string]simulatedServer{
	env.MySQL:     greetMySQL,
	env.Postgres:  answerPostgres,
	env.SQLServer: answerPrelogin,
}

// serveSimulated runs serve for every connection, until l is closed.
func serveSimulated(l net.Listener, serve simulatedServer) {
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

func greetMySQL(c net.Conn, connID uint32) {
	if _, err := c.Write(AppendGreeting(nil, "8.0.0-rhizome-simulated", connID)); err != nil {
		return
	}
	_, _ = c.Read(make([]byte, 1)) // until the client answers or goes
}

// answerPostgres answers an SSLRequest with 'N' (no TLS here), and the startup message that
// follows, or one sent straight away, with a FATAL error saying nothing is behind the port.
func answerPostgres(c net.Conn, _ uint32) {
	var msg [8]byte
	if _, err := io.ReadFull(c, msg[:]); err != nil {
		return
	}
	if isSSLRequest(msg[:]) {
		if _, err := c.Write([]byte{'N'}); err != nil {
			return
		}
		if _, err := io.ReadFull(c, msg[:]); err != nil {
			return
		}
	}
	// Read the rest of the startup message: closing with it unread would reset the
	// connection, and the client might lose the error.
	if n := binary.BigEndian.Uint32(msg[:4]); n > 8 && n < 1<<14 {
		_, _ = io.CopyN(io.Discard, c, int64(n-8))
	}
	_, _ = c.Write(appendPgFatal(nil, "08006", "this is rhizome's simulated forward: no PostgreSQL server behind it"))
}

// appendPgFatal appends an ErrorResponse of severity FATAL with SQLSTATE code and message.
func appendPgFatal(b []byte, code, message string) []byte {
	var fields []byte
	for _, f := range []struct {
		tag   byte
		value string
	}{{'S', "FATAL"}, {'V', "FATAL"}, {'C', code}, {'M', message}} {
		fields = append(append(append(fields, f.tag), f.value...), 0)
	}
	fields = append(fields, 0)
	b = append(b, 'E')
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(fields)))
	return append(b, fields...)
}

// answerPrelogin answers a client's PRELOGIN packet with a server's reply, then closes: the
// simulation goes no further than TDS's first step.
func answerPrelogin(c net.Conn, _ uint32) {
	typ, _, err := readTDSPacket(c)
	if err != nil || typ != tdsPrelogin {
		return
	}
	_, _ = c.Write(appendPreloginReply(nil, 16, 0, 1000))
}
