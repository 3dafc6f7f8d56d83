// Package proc supervises child processes: it starts each one in its own
// process group (killed when the supervisor dies: by Pdeathsig on Linux, by the
// watchdog elsewhere, see Options.Watchdog), reads stdout and
// stderr line by line, fans every line out to a Sink, a per-process ring of
// recent lines and subscribers, restarts children under a RestartPolicy, and
// stops them with SIGTERM to the group, then SIGKILL after a grace period.
//
// Besides the child's output, each Process carries Event lines written by
// the supervisor. Their texts are stable so that people and tests can rely on
// them:
//
//	subprocess started
//	subprocess finished status=0                  (exit code for a normal exit)
//	subprocess finished status=signal: killed     (os.ProcessState's text otherwise)
//	prepare failed: <err>
//	start failed: <err>
//	ready
//	ready check failed: <err>; stopping subprocess
//	health check failed: <err>; stopping subprocess
//	kicked: <reason>
//	stopping: SIGTERM to process group
//	still running <grace> after SIGTERM; sending SIGKILL to process group
//	restarting in <delay> (failure <n> of <max>): <reason>
//	restarting now (kicked: <reason>)
//	giving up after <n> consecutive failures: <reason>
//
// A process group does not outlive its leader: when the child started by the
// supervisor exits, whatever is left of its group is killed. Orphans would
// otherwise hold the output pipes open and run unsupervised.
//
// Package proc imports only the standard library.
package proc
