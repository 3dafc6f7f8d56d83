package agent

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain doubles as the sleeper child: the agent under test runs this binary with
// SleeperCommand, as the real agent runs the rhizome binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SleeperCommand {
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

func sleeperInterval() time.Duration {
	var f float64
	if _, err := fmt.Sscan(os.Getenv("SLEEP_OVERRIDE"), &f); err != nil {
		return time.Second
	}
	return time.Duration(f * float64(time.Second))
}
