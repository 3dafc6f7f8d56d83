package env

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/rhizome-dev/rhizome/rpc"
)

// Handle is the Go API of `rhizome forward ENV DB`: it resolves the names, asks the agent at
// ClientSocket("") for the forward and returns its handle once the database answers.
//
// For a Go program Handle is the edge that the CLI is for a person, so it reads the calling
// process's environment itself, as the CLI does: RHIZOME_SOCK, the XDG directories, and
// KUBECONFIG and RHIZOME_SIMULATE for the request (see ForwardParams).
//
//	h, err := env.Handle(ctx, "na-prod", "bookkeeper")
//	db, err := sql.Open("mysql", "user:pw@tcp(127.0.0.1:"+strconv.Itoa(h.LocalPort)+")/bookkeeper")
func Handle(ctx context.Context, envName, dbName string) (rpc.Handle, error) {
	catalog, err := Load()
	if err != nil {
		return rpc.Handle{}, err
	}
	e, db, err := catalog.Resolve(envName, dbName)
	if err != nil {
		return rpc.Handle{}, err
	}
	client, err := rpc.Dial(ctx, ClientSocket(""))
	if err != nil {
		return rpc.Handle{}, fmt.Errorf("%w (start one with: eval \"$(rhizome agent)\")", err)
	}
	defer client.Close()
	return client.Forward(ctx, ForwardParams(e, db))
}

// ForwardParams is the forward request for a database of an environment, carrying this
// process's KUBECONFIG (see ClientKubeconfig) and RHIZOME_SIMULATE to the agent, and the
// database's login (its PasswordTTL only with a PasswordCommand).
func ForwardParams(e *Environment, db *Database) rpc.ForwardParams {
	p := rpc.ForwardParams{
		KubeContext: e.Context, KubeNamespace: e.Namespace, KubeDeployment: e.Deployment,
		SQLConnection: db.Instance, LocalPort: db.LocalPort, PodPort: db.PodPort,
		ConnectCommand: e.Connect(), PortPattern: e.PortPattern,
		Name:        e.Name + "/" + db.Name,
		Kubeconfig:  ClientKubeconfig(),
		Simulate:    SimulateRequested(),
		Engine:      db.Engine,
		ConnectWait: rpc.Duration(e.ConnectWait), IdleTimeout: rpc.Duration(e.IdleTimeout), MaxAge: rpc.Duration(e.MaxAge),
		User: db.Login.User,
	}
	if len(db.Login.PasswordCommand) > 0 { // the TTL means nothing without a command
		p.PasswordCommand, p.PasswordTTL = db.Login.PasswordCommand, rpc.Duration(db.Login.PasswordTTL)
	}
	return p
}

// SimulateRequested reads RHIZOME_SIMULATE as the seed did: true, 1 or yes turn it on.
func SimulateRequested() bool {
	v := os.Getenv(VarSimulate)
	on, _ := strconv.ParseBool(v)
	return on || v == "yes"
}
