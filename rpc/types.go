package rpc

import "time"

// VersionResult answers MethodVersion. Clients use PID and Socket to print the shell lines of
// `rhizome agent` without a second round trip.
type VersionResult struct {
	Version  string    `json:"version"`
	Protocol int       `json:"protocol"`
	PID      int       `json:"pid"`
	Socket   string    `json:"socket"`
	Logfile  string    `json:"logfile"`
	Started  time.Time `json:"started"`
	Warnings []string  `json:"warnings,omitempty"`
	// SimulatesAll is true when the agent makes every forward simulated (it was started with
	// RHIZOME_SIMULATE=true), whatever the client asks.
	SimulatesAll bool `json:"simulates_all,omitempty"`
}

// SleeperParams asks for a sleeper, the test process that prints 0 to 4.
type SleeperParams struct {
	// Interval between lines in seconds; 0 means the agent's default (SLEEP_OVERRIDE or 1 s).
	Interval float64 `json:"interval,omitempty"`
}

// Started identifies a process the agent just started.
type Started struct {
	ID   int64  `json:"id"`
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

// ForwardParams asks for a ready local port that leads to a Cloud SQL instance behind a pod.
// The first five fields are the seed's; the rest tune the chain.
type ForwardParams struct {
	KubeContext    string `json:"kube_context"`
	KubeNamespace  string `json:"kube_namespace"`
	KubeDeployment string `json:"kube_deployment"`
	SQLConnection  string `json:"sql_connection"`
	LocalPort      int    `json:"local_port"`

	// PinPort makes a busy LocalPort an error instead of moving to the next free port.
	PinPort bool `json:"pin_port,omitempty"`
	// ConnectCommand is run in the pod with SQLConnection appended as its last argument.
	ConnectCommand []string `json:"connect_command,omitempty"`
	// PortPattern is a regular expression whose first group is the remote port, matched against
	// the pod's log lines; empty means Cloud SQL Auth Proxy v2's "[INSTANCE] Listening on".
	PortPattern string `json:"port_pattern,omitempty"`
	// PodPort is the pod port the instance's proxy always listens on (a sidecar); the agent
	// then runs no connection command. 0: ask ConnectCommand.
	PodPort int `json:"pod_port,omitempty"`
	// Name labels the forward in ps and logs, e.g. "na-prod/bookkeeper".
	Name string `json:"name,omitempty"`
	// Kubeconfig is the client's KUBECONFIG, so the agent's kubectl reads what the user's would.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Simulate runs the simulated forward (RHIZOME_SIMULATE=true) instead of kubectl.
	Simulate bool `json:"simulate,omitempty"`
	// Engine is the instance's database engine (mysql, postgres, sqlserver); empty means mysql.
	// It decides the readiness check, the default local port and the connection string.
	Engine string `json:"engine,omitempty"`
	// ConnectWait bounds how long a connection waits while the chain reconnects; 0: 30 s.
	ConnectWait Duration `json:"connect_wait,omitempty"`
	// IdleTimeout stops the forward after that long with no open connection; 0: never.
	IdleTimeout Duration `json:"idle_timeout,omitempty"`
	// MaxAge stops the forward that long after it started; 0: never.
	MaxAge Duration `json:"max_age,omitempty"`
	// Wait bounds how long the call waits for the forward to be ready; 0: 60 s. A forward that
	// was never ready stops when no call waits for it any more.
	Wait Duration `json:"wait,omitempty"`

	// User is the database user the front door logs the owner's clients in as when they bring
	// no password of their own; "" keeps the user the client names.
	User string `json:"user,omitempty"`
	// PasswordCommand is run by the agent (argv, no shell) for the password the door logs in
	// with: the first line of its output. Empty: the door logs nobody in.
	PasswordCommand []string `json:"password_command,omitempty"`
	// PasswordTTL is how long the agent keeps a password from PasswordCommand; 0 runs the
	// command for every connection. Clients send the effective value (env's default: 5m).
	PasswordTTL Duration `json:"password_ttl,omitempty"`
}

// Handle is what a ready forward gives back: the seed's shape.
type Handle struct {
	ConnectionString string `json:"connection_string"`
	LocalPort        int    `json:"local_port"`
	SQLConnection    string `json:"sql_connection"`
	// Moved is true when LocalPort differs from the asked-for port because that one was busy.
	Moved bool `json:"moved,omitempty"`
	// Engine is the database engine behind the handle: mysql, postgres or sqlserver.
	Engine string `json:"engine"`
	// UnixSocket is the forward's private socket (mode 0600 in a 0700 directory).
	UnixSocket string `json:"unix_socket,omitempty"`
	// UnixSocketError says why there is no UnixSocket; the TCP port works all the same.
	UnixSocketError string `json:"unix_socket_error,omitempty"`
	// Simulated is true when the simulated cluster answers (RHIZOME_SIMULATE), not a database.
	Simulated bool `json:"simulated,omitempty"`
	// Notes say what this request changed in a live forward (idle-timeout, max-age,
	// connect-wait), or could not change and why.
	Notes []string `json:"notes,omitempty"`
}

// Traffic is what went through a forward's front door (health checks not counted). Bytes of
// an open connection are counted every 64 KiB and when it closes.
type Traffic struct {
	Active       int        `json:"active"`    // connections open now
	Accepted     int        `json:"accepted"`  // connections let in since the forward started
	Refused      int        `json:"refused"`   // connections from other users, closed unread
	BytesIn      int64      `json:"bytes_in"`  // from clients towards the database
	BytesOut     int64      `json:"bytes_out"` // from the database back to clients
	LastActivity *time.Time `json:"last_activity,omitempty"`
}

// Process is one supervised process as ps shows it.
type Process struct {
	ID          int64      `json:"id"`
	PID         int        `json:"pid,omitempty"` // the current child; none while no process runs
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	State       string     `json:"state"`
	Started     *time.Time `json:"started,omitempty"` // the first child's start; none before one ran
	Since       time.Time  `json:"since"`             // when State began
	Restarts    int        `json:"restarts"`
	Attempt     int        `json:"attempt,omitempty"`
	NextRestart *time.Time `json:"next_restart,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Exit        string     `json:"exit,omitempty"`
	Handle      *Handle    `json:"handle,omitempty"`
	Traffic     *Traffic   `json:"traffic,omitempty"`
	Fix         string     `json:"fix,omitempty"` // what to do about Reason, when rhizome knows
	LastLines   []LogLine  `json:"last_lines,omitempty"`
}

// PsResult answers MethodPs in the seed's shape: {"running":[…],"count":N}.
type PsResult struct {
	Running  []Process `json:"running"`
	Count    int       `json:"count"`
	Warnings []string  `json:"warnings,omitempty"`
}

// StopParams names what to stop: a pid, or a name (every live process with that name).
type StopParams struct {
	Target string `json:"target"`
}

// StopResult lists what was stopped.
type StopResult struct {
	Stopped []Process `json:"stopped"`
}

// LogsParams asks for recent lines, of one process (Target: pid or name) or of all.
type LogsParams struct {
	Target string `json:"target,omitempty"`
	Lines  int    `json:"lines,omitempty"`
}

// LogsResult answers MethodLogs, oldest line first.
type LogsResult struct {
	Lines []LogLine `json:"lines"`
}

// SubscribeParams asks for output lines as notifications, of one process or of all.
type SubscribeParams struct {
	Target string `json:"target,omitempty"`
	// Subscription is the id the client chose for it, which its notifications carry, so the
	// client knows where the first one goes even before the reply; 0 lets the agent choose.
	Subscription int64 `json:"subscription,omitempty"`
}

// WatchParams asks for the state changes of every process as notifications.
type WatchParams struct {
	// Subscription is the client-chosen id, as in SubscribeParams.
	Subscription int64 `json:"subscription,omitempty"`
}

// StateChange says that a process entered a state. State is one of the states ps shows
// (starting, running, ready, restarting, failed, exited, stopped, and whatever states forwards
// add); clients show states they do not know as they are.
type StateChange struct {
	Time  time.Time `json:"time"`
	ID    int64     `json:"id"`
	PID   int       `json:"pid,omitempty"`
	Name  string    `json:"name"`
	Kind  string    `json:"kind"`
	State string    `json:"state"`
	// Reason says why, when there is one: what failed before a restart or for good.
	Reason string `json:"reason,omitempty"`
	// Exit is the status of the child that exited, e.g. "exit status 1", for exited.
	Exit string `json:"exit,omitempty"`
}

// StateParams is the payload of NotifyState.
type StateParams struct {
	Subscription int64         `json:"subscription"`
	Changes      []StateChange `json:"changes"`
}

// SubscribeResult names the subscription; notifications carry the same number.
type SubscribeResult struct {
	Subscription int64 `json:"subscription"`
}

// UnsubscribeParams ends a subscription.
type UnsubscribeParams struct {
	Subscription int64 `json:"subscription"`
}

// KubeParams asks the agent about the kube side it would use for a forward of this
// kubeconfig (as the client sends it) and context.
type KubeParams struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"kube_context"`
}

// KubeResult is what the agent itself would run, seen from its own environment (a service
// manager's PATH is not the shell's).
type KubeResult struct {
	Kubectl      string `json:"kubectl,omitempty"`       // the kubectl it would run
	KubectlError string `json:"kubectl_error,omitempty"` // why it has none
	Path         string `json:"path"`                    // its PATH
	// Plugin is the credential plugin the context's user runs (users[].user.exec.command),
	// "" when it has none; PluginPath where the agent finds it, PluginError why not.
	Plugin      string `json:"credential_plugin,omitempty"`
	PluginPath  string `json:"credential_plugin_path,omitempty"`
	PluginError string `json:"credential_plugin_error,omitempty"`
}

// CancelParams names a request of the same connection to give up: its JSON-RPC id.
type CancelParams struct {
	ID uint64 `json:"id"`
}

// OutputParams is the payload of NotifyOutput.
type OutputParams struct {
	Subscription int64     `json:"subscription"`
	Lines        []LogLine `json:"lines"`
}

// EndedParams is the payload of NotifyEnded.
type EndedParams struct {
	Subscription int64  `json:"subscription"`
	Reason       string `json:"reason"`
}

// Empty is the result of methods that return nothing of interest.
type Empty struct{}
