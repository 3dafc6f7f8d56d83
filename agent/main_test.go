package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rhizome-dev/rhizome/forward"
)

// helperEnv, set in a child's environment, makes the test binary act as the helper it names
// instead of running tests (the TestHelperProcess pattern).
const helperEnv = "RHIZOME_AGENT_TEST_HELPER"

// simIgnoreTermEnv makes the test binary, run as the simulated forward, ignore SIGTERM.
const simIgnoreTermEnv = "RHIZOME_AGENT_TEST_SIM_IGNORE_TERM"

// ignoreTermEnv makes the sleeper child ignore SIGTERM, so only a SIGKILL ends it.
const ignoreTermEnv = "RHIZOME_TEST_IGNORE_TERM"

// chattyEnv makes the sleeper child print that many lines as fast as it can instead of 0 to 4;
// with chattyPhaseEnv also set, it waits for a SIGUSR1 after every that many lines.
const (
	chattyEnv      = "RHIZOME_TEST_CHATTY_LINES"
	chattyPhaseEnv = "RHIZOME_TEST_CHATTY_PHASE"
)

// TestMain doubles as the sleeper child: the agent under test runs this binary with
// SleeperCommand, as the real agent runs the rhizome binary, and as the watchdog with
// WatchdogCommand. It also runs the helpers that tests start as other processes, e.g. as
// another uid.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == WatchdogCommand {
		if err := RunWatchdog(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(127)
		}
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == forward.SimulateCommand {
		// The simulated forward; with simIgnoreTermEnv, one that takes the whole grace to end.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		if os.Getenv(simIgnoreTermEnv) != "" {
			stop()
			signal.Ignore(syscall.SIGTERM)
			ctx = context.Background()
		}
		defer stop()
		if err := forward.Simulate(ctx, os.Args[2:], os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(helperProcess(h, os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == SleeperCommand {
		if os.Getenv(ignoreTermEnv) != "" {
			signal.Ignore(syscall.SIGTERM)
		}
		if n, err := strconv.Atoi(os.Getenv(chattyEnv)); err == nil {
			os.Exit(chatty(n))
		}
		for i := 0; i < 5; i++ {
			if i > 0 {
				time.Sleep(sleeperInterval())
			}
			fmt.Println(i)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// helperProcess runs the helper named h.
func helperProcess(h string, args []string) int {
	switch h {
	case "dial": // dial SOCKET: send a version call, print every line the agent sends, then EOF when it closes
		c, err := net.Dial("unix", args[0])
		if err != nil {
			fmt.Printf("dial error: %v\n", err)
			return 1
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintln(c, `{"jsonrpc":"2.0","id":1,"method":"version"}`)
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			fmt.Println(sc.Text())
			if os.Getenv("HELPER_ONE_LINE") != "" {
				return 0
			}
		}
		// A refused peer's request is never read: closing on it, the agent makes Linux report
		// a reset rather than EOF, once the lines sent before the close are read.
		if err := sc.Err(); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			fmt.Printf("read error: %v\n", err)
			return 1
		}
		fmt.Println("EOF")
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown helper %q\n", h)
	return 2
}

// chatty prints n lines, pausing for a SIGUSR1 after each phase when chattyPhaseEnv is set.
func chatty(n int) int {
	phase, _ := strconv.Atoi(os.Getenv(chattyPhaseEnv))
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	w := bufio.NewWriterSize(os.Stdout, 4096)
	for i := range n {
		fmt.Fprintf(w, "line %d\n", i)
		if phase > 0 && (i+1)%phase == 0 && i+1 < n {
			w.Flush()
			select {
			case <-usr1:
			case <-time.After(time.Minute):
				fmt.Fprintln(os.Stderr, "no SIGUSR1 for a minute")
				return 3
			}
		}
	}
	w.Flush()
	return 0
}

func sleeperInterval() time.Duration {
	var f float64
	if _, err := fmt.Sscan(os.Getenv("SLEEP_OVERRIDE"), &f); err != nil {
		return time.Second
	}
	return time.Duration(f * float64(time.Second))
}
