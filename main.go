// Command rhizome gives one-command, always-working local access to databases behind
// Kubernetes. See README.md.
package main

import (
	"context"
	"os"

	"github.com/rhizome-dev/rhizome/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args))
}
