package agent

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestSettingsReachChildren starts sleepers under agents configured through Config alone, as
// the CLI configures them from its environment: the pace reaches the sleeper, and with
// Watchdog the sleeper runs through the watchdog, under its own pid, and says all it says.
func TestSettingsReachChildren(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(*Config)
		wantEnv  string // in the sleeper's environment
		watchdog bool
	}{
		{"sleeper interval", func(c *Config) { c.SleeperInterval = 600 * time.Second }, "SLEEP_OVERRIDE=600", false},
		{"watchdog", func(c *Config) { c.Watchdog = true; c.SleeperInterval = 600 * time.Second }, "SLEEP_OVERRIDE=600", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLEEP_OVERRIDE", "") // only the Config may set it
			a := startAgent(t, tt.cfg)
			c := dialAgent(t, a)
			s, err := c.Sleeper(t.Context(), rpc.SleeperParams{})
			if err != nil {
				t.Fatal(err)
			}
			// Between fork and exec the child's /proc environ is still the agent's: wait for the exec.
			waitFor(t, "the sleeper's environment to hold "+tt.wantEnv, func() bool {
				environ, _ := os.ReadFile("/proc/" + strconv.Itoa(s.PID) + "/environ")
				return slices.Contains(strings.Split(string(environ), "\x00"), tt.wantEnv)
			})
			if !tt.watchdog {
				return
			}
			// The watchdog runs first under the sleeper's pid, then becomes the sleeper.
			waitFor(t, "pid "+strconv.Itoa(s.PID)+" to run the sleeper itself", func() bool {
				args, _ := os.ReadFile("/proc/" + strconv.Itoa(s.PID) + "/cmdline")
				got := strings.Split(strings.TrimSuffix(string(args), "\x00"), "\x00")
				return len(got) == 2 && got[1] == SleeperCommand
			})
			waitFor(t, "the sleeper's first line", func() bool {
				logs, err := c.Logs(t.Context(), rpc.LogsParams{Target: "sleeper"})
				return err == nil && slices.ContainsFunc(logs.Lines, func(l rpc.LogLine) bool {
					return l.Stream == rpc.StreamStdout && l.Text == "0" && l.PID == s.PID
				})
			})
		})
	}
}
