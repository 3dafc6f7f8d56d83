package forward

import (
	"context"
	"encoding/binary"
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
// (see simulatedServers), so clients and the readiness check see a database-shaped peer
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
	engine, err := env.LookupEngine(*engineName)
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
	fmt.Fprintf(out, "simulated forward: %s answers as %s on the agent's private socket\n", *instance, engine.Title)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Close() // removes the socket
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveSimulated(l, simulatedServers[engine.Name])
	}()
	<-ctx.Done()
	return nil
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
