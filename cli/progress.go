package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/rpc"
)

// showProgress prints, on a terminal only, the steps of the named process while the caller
// waits for it; piped output stays clean. The returned func stops it.
func showProgress(c *cli.Context, client *rpc.Client, name string) (stop func()) {
	f, ok := c.App.ErrWriter.(*os.File)
	if !ok || !isTerminal(f) {
		return func() {}
	}
	ctx, cancel := answerContext(c)
	sub, err := client.Subscribe(ctx, rpc.SubscribeParams{Target: name})
	if err != nil {
		cancel()
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range sub.C() {
			for _, l := range batch {
				if l.Stream == rpc.StreamEvent && !strings.HasPrefix(l.Text, "subprocess ") {
					fmt.Fprintf(f, "\r\033[K%s: %s", name, l.Text)
				}
			}
		}
	}()
	return func() {
		_ = sub.Close(ctx)
		cancel()
		<-done
		fmt.Fprint(f, "\r\033[K")
	}
}
