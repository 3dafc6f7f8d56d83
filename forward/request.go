// Package forward is a forward's life: it turns a request for a Cloud SQL instance behind a
// Kubernetes deployment into a supervised, self-healing local endpoint (the front door: a
// loopback port and a private socket, for the owner alone), and shares one forward among
// every client that asks for the same thing.
//
// The chain, redone on every attempt (chain.go): find a running pod of the deployment, learn
// the pod port of the instance's proxy (pod-port, a remembered port, or the connection
// command run with kubectl exec), open a port-forward session to the pod (forward/kube, through
// the context's kubectl proxy), and call it ready only once the database's first bytes come
// back through a stream of it (forward/engine). The door then opens a stream pair per client.
package forward

import (
	"errors"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/door"
)

// Request asks for a forward. The first five fields are the seed's parameters.
type Request struct {
	Context       string // kube context
	Namespace     string
	Deployment    string
	SQLConnection string // Cloud SQL instance, project:region:instance
	LocalPort     int    // preferred local port; 0 = the engine's default

	PinPort        bool     // a busy LocalPort is an error rather than a move to the next free one
	ConnectCommand []string // run in the pod with SQLConnection appended; nil = env.DefaultConnectCommand
	PortPattern    string   // regexp with one group for the port; "{instance}" stands for SQLConnection
	PodPort        int      // the pod port the instance's proxy always listens on (a sidecar); 0: ask the connection command
	Kubeconfig     string   // the client's KUBECONFIG, "" for kubectl's default
	Name           string   // label in ps, e.g. "na-prod/bookkeeper"
	Simulate       bool     // run the simulated forward instead of kubectl
	Engine         string   // the instance's database engine (env.MySQL, …); "" = env.DefaultEngine

	// ConnectWait bounds how long a connection that arrives while the chain is down waits for
	// it; 0 means DefaultConnectWait.
	ConnectWait time.Duration
	// IdleTimeout stops the forward after that long with no open connection; 0 never does.
	IdleTimeout time.Duration
	// MaxAge stops the forward that long after it started, used or not; 0 never does.
	MaxAge time.Duration
	// Wait bounds how long Forward waits for the forward to be ready; 0 means DefaultWait. A
	// forward that was never ready stops when no client waits for it any more.
	Wait time.Duration

	// User, PasswordCommand and PasswordTTL are the login the door makes for the owner's
	// clients that bring no password (see rpc.ForwardParams). No PasswordCommand: no login.
	User            string
	PasswordCommand []string
	PasswordTTL     time.Duration // 0: run PasswordCommand for every connection
}

// DefaultWait is how long a client waits for a forward by default.
const DefaultWait = 60 * time.Second

// DefaultConnectWait is how long a connection waits for a reconnecting chain by default.
const DefaultConnectWait = 30 * time.Second

// key identifies what a forward reaches, so equal requests share one forward whatever port
// they prefer.
type key struct {
	kubeconfig, context, namespace, deployment, instance string
	simulate                                             bool
	engine                                               string
}

func (r Request) key() key {
	return key{r.Kubeconfig, r.Context, r.Namespace, r.Deployment, r.SQLConnection, r.Simulate, r.engine().Name}
}

// engine is r's engine; validate refuses an unknown one, which reads as the default here.
func (r Request) engine() env.Engine {
	e, err := env.LookupEngine(r.Engine)
	if err != nil {
		e, _ = env.LookupEngine("")
	}
	return e
}

// localPort is the port r prefers: the one it names, else its engine's usual one.
func (r Request) localPort() int {
	if r.LocalPort == 0 {
		return r.engine().DefaultPort
	}
	return r.LocalPort
}

// Handle is how a client reaches a ready forward.
type Handle struct {
	ConnectionString string // mysql://127.0.0.1:PORT, postgres://…, sqlserver://…
	LocalPort        int
	SQLConnection    string
	Moved            bool   // LocalPort is not the one asked for, which was busy
	Engine           string // env.MySQL, env.Postgres or env.SQLServer
	UnixSocket       string // the forward's private socket; "" when it could not be made
	UnixSocketError  string // why there is no UnixSocket
	Simulated        bool   // the simulated cluster answers, not a database
	// Notes say what a request for a live forward changed in it, or could not change and why.
	Notes []string
}

func newHandle(d *door.Door, r Request) Handle {
	e := r.engine()
	h := Handle{
		ConnectionString: e.URL(d.Port()),
		LocalPort:        d.Port(),
		SQLConnection:    r.SQLConnection,
		Moved:            d.Port() != r.localPort(),
		Engine:           e.Name,
		UnixSocket:       d.UnixPath(),
		Simulated:        r.Simulate,
	}
	if err := d.UnixErr(); err != nil {
		h.UnixSocketError = err.Error()
	}
	return h
}

// label is the forward's name in ps and logs.
func (r Request) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.SQLConnection
}

// Errors a forward request can end with.
var (
	ErrInvalid        = errors.New("forward: invalid request")
	ErrPortInUse      = door.ErrPortInUse
	ErrKubectlMissing = errors.New("forward: kubectl not found")
	ErrFailed         = errors.New("forward: failed")
)
