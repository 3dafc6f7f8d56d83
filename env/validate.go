package env

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The rules below are the one validation of what reaches kubectl and the pod: the config file
// applies them when it is read, the agent again to every forward request, whoever sent it.
// Each Check returns nil or the reason, which the caller words into its own sentence:
//
//	config:2: context "--kubeconfig=/etc/x" is not a name kubectl accepts: it starts with '-'
//	forward: invalid request: kube_context "--x" is not a Kubernetes name: it starts with '-'

// DefaultLocalPort is the local port of a database whose config or request names neither a
// port nor an engine: the default engine's (see the engine table in engine.go).
const DefaultLocalPort = 3306

// maxKubeName bounds a context, namespace or deployment name (Kubernetes' longest, a DNS
// subdomain, has 253 characters); it keeps log lines and ps rows readable.
const maxKubeName = 253

// contextPunct is what a context name may hold besides letters and digits: enough for every
// name the usual tools write into a kubeconfig (gke_proj_zone_cluster,
// arn:aws:eks:us-east-1:123456789012:cluster/prod, user@cluster.region.eksctl.io,
// default/api-crc-testing:6443/kubeadmin, kind-dev). kubectl gets it as one argument,
// --context=NAME, so it is never read as a flag; spaces, quotes and shell characters stay out
// because the name is also shown in ps and logs, where people copy it into shells.
const contextPunct = "._-:@/+"

// CheckContext checks a kube context name.
func CheckContext(v string) error {
	if err := checkKubeName(v); err != nil {
		return err
	}
	for _, r := range v {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(contextPunct, r) {
			return fmt.Errorf("%q is not allowed (letters, digits and %s are)", r, contextPunct)
		}
	}
	return nil
}

// kubeObjectRE is a namespace or deployment name (compiled on first use, as are the other
// patterns here: compiled at init, every run of the CLI paid for them). Kubernetes allows less
// (lowercase DNS labels); this refuses what could change the meaning of kubectl's arguments: the deployment
// becomes deploy/NAME, so no '/', and nothing starts with '-'.
var kubeObjectRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]*$`) })

// CheckKubeObject checks a namespace or deployment name.
func CheckKubeObject(v string) error {
	if err := checkKubeName(v); err != nil {
		return err
	}
	if !kubeObjectRE().MatchString(v) {
		return fmt.Errorf("use ASCII letters, digits, '.', '_', ':', '@' and '-', starting with a letter or digit")
	}
	return nil
}

// checkKubeName is what every kube name must be: present, not too long, printable, and not
// readable as a flag where it becomes a positional argument.
func checkKubeName(v string) error {
	switch {
	case v == "":
		return fmt.Errorf("it is empty")
	case len(v) > maxKubeName:
		return fmt.Errorf("it is longer than %d characters", maxKubeName)
	case !utf8.ValidString(v):
		return fmt.Errorf("it is not UTF-8")
	case strings.ContainsFunc(v, unicode.IsControl):
		return fmt.Errorf("it holds a control character")
	case v[0] == '-':
		return fmt.Errorf("it starts with '-'")
	}
	return nil
}

// instanceRE is a Cloud SQL connection name, project:region:instance; the project may carry a
// domain, as in example.com:proj:region:inst.
var instanceRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]*:[a-z0-9-]+:[a-z0-9][a-z0-9-]*$`)
})

// maxInstance bounds a connection name: a project id has at most 30 characters (plus a
// domain), an instance name 98.
const maxInstance = 253

// CheckInstance checks a Cloud SQL connection name.
func CheckInstance(v string) error {
	if len(v) > maxInstance {
		return fmt.Errorf("it is longer than %d characters", maxInstance)
	}
	if !instanceRE().MatchString(v) {
		return errors.New("want project:region:instance, in lowercase letters, digits, '.' and '-'")
	}
	return nil
}

// wordRE is what a word of the connection command, or a kubeconfig path list, may be: a path
// or a plain option, no shell characters, since some connection scripts hand their arguments
// to a shell.
var wordRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:=,@+%-]+$`) })

// maxWord bounds one such word.
const maxWord = 512

func plainWord(w string) bool { return len(w) <= maxWord && wordRE().MatchString(w) }

// CheckConnectCommand checks the command run in the pod: a program (not a flag) and plain
// arguments.
func CheckConnectCommand(words []string) error {
	if len(words) == 0 {
		return errors.New("needs a program (and its arguments)")
	}
	for i, w := range words {
		if !plainWord(w) || (i == 0 && w[0] == '-') {
			return fmt.Errorf("word %q: want a program path and plain arguments, no shell characters", w)
		}
	}
	return nil
}

// CheckKubeconfig checks a KUBECONFIG value sent with a forward: paths separated by ':'.
func CheckKubeconfig(v string) error {
	if !plainWord(v) {
		return errors.New("want plain paths separated by ':'")
	}
	return nil
}

// CheckPort checks a local port.
func CheckPort(p int) error {
	if p < 1 || p > 65535 {
		return errors.New("want a number from 1 to 65535")
	}
	return nil
}

// maxUser bounds a database user name: MySQL's are at most 32 characters, PostgreSQL's 63,
// and a Cloud SQL IAM user is an email address, at most 254.
const maxUser = 254

// CheckUser checks a database user: it goes into the client's argv (rhizome connect) and the
// login the front door sends, so it is one printable word that no client reads as a flag.
func CheckUser(v string) error {
	switch {
	case v == "":
		return errors.New("it is empty")
	case len(v) > maxUser:
		return fmt.Errorf("it is longer than %d characters", maxUser)
	case !utf8.ValidString(v):
		return errors.New("it is not UTF-8")
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return errors.New("it holds a space or a control character")
	case v[0] == '-':
		return errors.New("it starts with '-'")
	}
	return nil
}

// CheckPasswordCommand checks the command the agent runs for a password. It runs on this
// machine with no shell, so shell characters are harmless and allowed; what is refused is what
// would run something other than the user meant: a flag for a program, a path relative to the
// agent's working directory (which is not the user's), and words no argv can carry.
func CheckPasswordCommand(words []string) error {
	if len(words) == 0 {
		return errors.New("needs a program (and its arguments)")
	}
	for _, w := range words {
		if w == "" || len(w) > maxWord || !utf8.ValidString(w) || strings.ContainsFunc(w, unicode.IsControl) {
			return fmt.Errorf("word %q: want printable words of at most %d bytes", w, maxWord)
		}
	}
	switch program := words[0]; {
	case program[0] == '-':
		return fmt.Errorf("program %q: want a program, not a flag", program)
	case strings.ContainsRune(program, '/') && !filepath.IsAbs(program):
		return fmt.Errorf("program %q: want an absolute path or a program name on the agent's PATH (the agent's working directory is not yours)", program)
	}
	return nil
}
