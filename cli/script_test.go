package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// binDir holds the rhizome binary built once for all scripts, so the scripts drive the real
// program: a real daemon, a real socket, real children. Beside it, rhizome-old is the same
// program stamped with oldVersion, to be the agent of another release.
var binDir string

const oldVersion = "v0.0.1-old"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rhizome-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for name, flags := range map[string][]string{
		"rhizome":     nil,
		"rhizome-old": {"-ldflags", "-X github.com/rhizome-dev/rhizome/cli.Version=" + oldVersion},
	} {
		build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", filepath.Join(dir, name), "..")...)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", name, err)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own short XDG dirs (socket
// paths must stay under 104 bytes), the built binary first on PATH, and an agent -k at the end
// so no agent outlives its script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			short, err := os.MkdirTemp("", "rz")
			if err != nil {
				return err
			}
			run := filepath.Join(short, "run")
			if err := os.Mkdir(run, 0o700); err != nil {
				return err
			}
			e.Setenv("PATH", binDir+string(os.PathListSeparator)+e.Getenv("PATH"))
			e.Setenv("XDG_RUNTIME_DIR", run)
			e.Setenv("XDG_STATE_HOME", filepath.Join(short, "state"))
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(short, "config"))
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("SHELL", "/bin/sh")
			e.Setenv("SHORT", short)
			e.Defer(func() {
				killAgents(e, run)
				os.RemoveAll(short)
			})
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfor": cmdWaitFor,
			"exits":   cmdExits,
			"sleep":   cmdSleep,
			"greet":   cmdGreet,
		},
	})
}

// killAgents stops whatever agent a script left on its default socket, or on a socket of its
// own directly in its short directory (agent -a), even when the script failed before its own -k.
func killAgents(e *testscript.Env, run string) {
	sockets, _ := filepath.Glob(filepath.Join(filepath.Dir(run), "*.sock"))
	deeper, _ := filepath.Glob(filepath.Join(filepath.Dir(run), "*", "*.sock"))
	sockets = append(sockets, deeper...)
	for _, sock := range append(sockets, filepath.Join(run, "rhizome", "agent.sock")) {
		cmd := exec.Command(filepath.Join(binDir, "rhizome"), "agent", "-k", "-a", sock)
		cmd.Env = e.Vars
		_ = cmd.Run()
	}
}

// cmdWaitFor runs `rhizome ARGS…` until its stdout contains TEXT, for up to 30 s:
//
//	waitfor TEXT rhizome ARGS…
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: waitfor TEXT PROGRAM ARGS…")
	}
	want := args[0]
	var out bytes.Buffer
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out.Reset()
		program := args[1]
		if program == "rhizome" {
			program = filepath.Join(binDir, "rhizome")
		}
		cmd := exec.Command(program, args[2:]...)
		cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = environ(ts), ts.Getenv("WORK"), &out, &out
		_ = cmd.Run()
		if strings.Contains(out.String(), want) {
			return
		}
	}
	ts.Fatalf("%q never appeared in the output of %s; last:\n%s", want, strings.Join(args[1:], " "), out.String())
}

func environ(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "HOME", "SHELL", "RHIZOME_SOCK", "RHIZOME_SIMULATE", "SLEEP_OVERRIDE", "KUBECONFIG", "RHIZOME_KUBECTL"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// cmdSleep pauses the script: sleep DURATION. Only for letting time pass, never to wait for
// something (use waitfor).
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// cmdExits runs `rhizome ARGS…` and checks its exit code: exits CODE rhizome ARGS…
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "rhizome" {
		ts.Fatalf("usage: exits CODE rhizome ARGS…")
	}
	cmd := exec.Command(filepath.Join(binDir, "rhizome"), args[2:]...)
	cmd.Env, cmd.Dir = environ(ts), ts.Getenv("WORK")
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		ts.Fatalf("running rhizome: %v", err)
	}
	if want := args[0]; strconv.Itoa(code) != want {
		ts.Fatalf("rhizome %s exited %d, want %s", strings.Join(args[2:], " "), code, want)
	}
}

// cmdGreet connects to a forward like a MySQL client and prints the server version of its
// greeting: greet tcp HOST:PORT | greet unix PATH. With !, it expects no greeting.
func cmdGreet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: greet tcp|unix ADDRESS")
	}
	version, err := readGreeting(args[0], args[1])
	switch {
	case neg && err == nil:
		ts.Fatalf("%s %s greeted (server %s), want no greeting", args[0], args[1], version)
	case !neg && err != nil:
		ts.Fatalf("%s %s: %v", args[0], args[1], err)
	case !neg:
		fmt.Fprintln(ts.Stdout(), version)
	}
}

func readGreeting(network, addr string) (string, error) {
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var header [4]byte // payload length (3 bytes), sequence number
	if _, err := io.ReadFull(c, header[:]); err != nil {
		return "", fmt.Errorf("no greeting: %w", err)
	}
	payload := make([]byte, int(header[0])|int(header[1])<<8|int(header[2])<<16)
	if _, err := io.ReadFull(c, payload); err != nil {
		return "", fmt.Errorf("no greeting: %w", err)
	}
	version, _, ok := bytes.Cut(payload[min(1, len(payload)):], []byte{0})
	if len(payload) < 2 || payload[0] != 10 || !ok { // protocol version 10, then the server's
		return "", fmt.Errorf("not a MySQL greeting: %q", payload)
	}
	return string(version), nil
}
