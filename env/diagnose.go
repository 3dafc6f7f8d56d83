package env

import (
	"fmt"
	"regexp"
	"sync"
)

// FailureKind says what retrying can do about a failure to reach a database.
type FailureKind int

const (
	// Transient failures may go away by themselves: the API server unreachable, the pod not
	// running yet or gone, the proxy not announced yet, a failed health check.
	Transient FailureKind = iota
	// Permanent failures need someone to change something: a name that does not exist, a
	// permission that is missing.
	Permanent
	// NeedsLogin failures need the user to log in again: rejected credentials, a credential
	// plugin that failed.
	NeedsLogin
)

func (k FailureKind) String() string {
	return [...]string{"transient", "permanent", "needs-login"}[k]
}

// Where names what a failure may be about, for the fix.
type Where struct {
	Environment, Context, Namespace, Deployment, Instance string
}

// failurePatterns is the one table of what kubectl, the API server and the pod's connection
// script say when a forward cannot be made, what kind of failure each is, and the fix. The
// first match wins, so the credential messages come before the unreachable-server ones that
// kubectl wraps them in ("Unable to connect to the server: getting credentials: …").
// diagnose_test.go holds a real message for each. It is compiled on first use: only the agent
// and doctor read it, and every other run of the CLI would pay for it at start-up.
var failurePatterns = sync.OnceValue(func() []failurePattern {
	return []failurePattern{
		{regexp.MustCompile(`context "([^"]*)" does not exist|context was not found for specified context`), Permanent,
			func(w Where, _ []string) string { return ContextHint(w.Context) }},
		{regexp.MustCompile(`You must be logged in to the server|\(Unauthorized\)|getting credentials: exec|gke-gcloud-auth-plugin|exec plugin`), NeedsLogin,
			func(w Where, _ []string) string { return LoginHint(w.Context) }},
		{regexp.MustCompile(`cannot (\w+) resource "([^"]+)"`), Permanent,
			func(w Where, m []string) string { return ForbiddenHint(w, m[1], m[2]) }},
		{regexp.MustCompile(`\(Forbidden\)|is forbidden`), Permanent,
			func(w Where, _ []string) string { return ForbiddenHint(w, "create", "pods/portforward and pods/exec") }},
		{regexp.MustCompile(`namespaces "([^"]*)" not found`), Permanent,
			func(w Where, m []string) string {
				return fmt.Sprintf("namespace %s does not exist in %s: fix the environment's namespace line (kubectl --context %s get namespaces)", m[1], w.Context, w.Context)
			}},
		{regexp.MustCompile(`deployments(?:\.apps)? "([^"]*)" not found`), Permanent,
			func(w Where, m []string) string {
				return fmt.Sprintf("deployment %s does not exist in namespace %s: fix the environment's deployment line (kubectl --context %s -n %s get deployments)", m[1], w.Namespace, w.Context, w.Namespace)
			}},
		{regexp.MustCompile(`instance does not exist|(?i)instance .* (?:not found|does not exist)`), Permanent,
			func(w Where, _ []string) string {
				return fmt.Sprintf("the connection script knows no instance %s: fix the database's instance line", w.Instance)
			}},
		{regexp.MustCompile(`a server of another engine\?`), Permanent,
			func(w Where, _ []string) string {
				return fmt.Sprintf("a server answers behind %s, but not as the database's engine: fix the database's engine line (rhizome envs shows it)", w.Instance)
			}},
		{regexp.MustCompile(`connection refused|was refused|i/o timeout|no route to host|no such host|network is unreachable|Unable to connect to the server|TLS handshake timeout|context deadline exceeded|no answer within`), Transient,
			func(w Where, _ []string) string {
				return fmt.Sprintf("the API server of %s does not answer: check your network or VPN, and that the cluster is up (kubectl --context %s cluster-info)", w.Context, w.Context)
			}},
	}
})

type failurePattern struct {
	re   *regexp.Regexp
	kind FailureKind
	fix  func(w Where, m []string) string
}

// Diagnose reads a failure's message (kubectl's, the API server's or the connection script's
// words) and says what kind of failure it is and, when it knows, the fix in words. A message it
// does not know is Transient with no fix: a forward keeps trying rather than give up on a
// guess.
func Diagnose(msg string, w Where) (FailureKind, string) {
	for _, p := range failurePatterns() {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			return p.kind, p.fix(w, m)
		}
	}
	return Transient, ""
}

// ForbiddenHint is the fix for credentials that may not do what a forward does.
func ForbiddenHint(w Where, verb, resource string) string {
	return fmt.Sprintf("your user in %s may not %s %s in namespace %s: ask a cluster admin for a Role allowing it, bound to your user", w.Context, verb, resource, w.Namespace)
}
