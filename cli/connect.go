package cli

import (
	"os/exec"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward"
)

func connectCommand() *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "open the database's own client (mariadb or mysql, psql, sqlcmd) on its forward",
		ArgsUsage: "ENV DB [-- CLIENT-ARGS…]",
		Description: `Starts the forward if needed (as rhizome forward does), then runs the engine's own client
on it, in this terminal: mariadb (or mysql) and psql through the forward's private Unix socket,
sqlcmd through its port. The client connects as the database's user when the config names one,
and is never given a password: the front door logs it in when the config has a
password-command, and otherwise the client asks for one as it always does. The words after --
go to the client; its exit status is rhizome's.

   rhizome connect na-prod bookkeeper
   rhizome connect na-prod bookkeeper -- -e 'SELECT 1'   # mariadb -e
   rhizome connect eu-prod ledger -- -c 'SELECT 1'       # psql -c`,
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "wait", Usage: "how long to wait for the forward to be ready, up to `DURATION`", DefaultText: seconds(forward.DefaultWait)},
		},
		Action: runConnect,
	}
}

func runConnect(c *cli.Context) error {
	args, clientArgs := c.Args().Slice(), []string(nil)
	for i, a := range args {
		if a == "--" {
			args, clientArgs = args[:i], args[i+1:]
			break
		}
	}
	if len(args) > 2 {
		return usageErrorf("connect takes ENV DB; %q is one too many (the client's words go after --: rhizome connect ENV DB -- ARGS…)", args[2])
	}
	if len(args) != 2 {
		return usageErrorf("connect takes ENV DB, then -- and the client's arguments (see rhizome envs)")
	}
	e, db, err := resolve(args[0], args[1])
	if err != nil {
		return err
	}
	engine, err := env.LookupEngine(db.Engine)
	if err != nil {
		return err
	}
	client, err := engine.FindClient(exec.LookPath) // before a forward starts for nothing
	if err != nil {
		return err
	}
	h, err := forwardHandle(c, e, db)
	if err != nil {
		return err
	}
	return runChild(c, engine.ClientCommand(client, h, db.Login.User, clientArgs), nil)
}
