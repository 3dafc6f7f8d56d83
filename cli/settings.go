package cli

import (
	"os"
	"strconv"
	"time"

	"github.com/rhizome-dev/rhizome/agent"
	"github.com/rhizome-dev/rhizome/env"
)

// Environment variables the agent's settings come from. They are read here, once, when the
// agent starts; packages below the CLI get them in agent.Config.
const (
	varDebug          = "RHIZOME_DEBUG"           // any value: log at debug level
	varKubectl        = "RHIZOME_KUBECTL"         // the kubectl to run
	varHealthInterval = "RHIZOME_HEALTH_INTERVAL" // how often ready forwards are checked
	varMaxBackoff     = "RHIZOME_MAX_BACKOFF"     // the longest wait between reconnect attempts
	varWatchdog       = "RHIZOME_WATCHDOG"        // true: the watchdog instead of Pdeathsig (Linux)
	varSleepOverride  = "SLEEP_OVERRIDE"          // the sleeper's pace, in seconds
	// kubectl's own switch, read the same way: false makes port-forwards SPDY only.
	varPortForwardWebSockets = "KUBECTL_PORT_FORWARD_WEBSOCKETS"
)

// agentSettings fills cfg from the agent's environment.
func agentSettings(cfg *agent.Config) error {
	cfg.Simulate = env.SimulateRequested()
	cfg.Debug = os.Getenv(varDebug) != ""
	cfg.Kubectl = os.Getenv(varKubectl)
	if v := os.Getenv(varPortForwardWebSockets); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return usageErrorf("%s=%q: want true or false", varPortForwardWebSockets, v)
		}
		cfg.NoWebSockets = !on
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{varHealthInterval, &cfg.HealthInterval}, {varMaxBackoff, &cfg.MaxBackoff}} {
		v := os.Getenv(d.name)
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed <= 0 {
			return usageErrorf("%s=%q: want a duration such as 10s", d.name, v)
		}
		*d.dst = parsed
	}
	if v := os.Getenv(varWatchdog); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return usageErrorf("%s=%q: want true or false", varWatchdog, v)
		}
		cfg.Watchdog = on
	}
	// A bad SLEEP_OVERRIDE must not stop the agent: the sleeper, which inherits it, says so.
	if d, set, err := sleepOverride(); err == nil && set {
		cfg.SleeperInterval = d
	}
	return nil
}
