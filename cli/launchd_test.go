package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plistPath is the launchd user agent that runs the agent at login on macOS.
var plistPath = filepath.Join("..", "scripts", "dev.rhizome.agent.plist")

// TestLaunchdPlistIsWellFormed parses the plist as launchd's parser would have to: well-formed
// XML of the plist DTD's elements, a dict at the top, every key followed by one value, and the
// keys launchd needs with the types it wants.
func TestLaunchdPlistIsWellFormed(t *testing.T) {
	job := readPlist(t, plistPath)
	label, _ := job["Label"].(string)
	if label == "" || filepath.Base(plistPath) != label+".plist" {
		t.Errorf("Label = %q, want the file's name without .plist (%s), as launchctl expects", label, filepath.Base(plistPath))
	}
	if args := programArguments(t, job); len(args) == 0 || !filepath.IsAbs(args[0]) {
		t.Errorf("ProgramArguments = %q, want an absolute program first: launchd searches no PATH", args)
	}
	if job["RunAtLoad"] != true {
		t.Errorf("RunAtLoad = %v, want true: the agent starts at login", job["RunAtLoad"])
	}
	keepAlive, _ := job["KeepAlive"].(map[string]any)
	if keepAlive["SuccessfulExit"] != false {
		t.Errorf("KeepAlive = %v, want {SuccessfulExit: false}: restarted on failure, stopped by agent -k", job["KeepAlive"])
	}
	if n, ok := job["ExitTimeOut"].(int); !ok || n < 30 {
		t.Errorf("ExitTimeOut = %v, want at least 30 s for the agent to stop its children", job["ExitTimeOut"])
	}
	envs, ok := job["EnvironmentVariables"].(map[string]any)
	if !ok {
		t.Fatalf("EnvironmentVariables = %v, want a dict", job["EnvironmentVariables"])
	}
	for k, v := range envs {
		if _, ok := v.(string); !ok {
			t.Errorf("EnvironmentVariables[%s] = %v, want a string", k, v)
		}
	}
}

// TestLaunchdPlistStartsAgent runs the plist's ProgramArguments as launchd would: no variable
// expanded, EnvironmentVariables applied, a bare environment otherwise (HOME, and the per-user
// TMPDIR, as on a Mac, no XDG_RUNTIME_DIR). The agent it starts must answer on the socket that
// a Terminal's rhizome finds by default, and stop on launchd's SIGTERM, exiting 0 so that
// KeepAlive leaves it stopped.
func TestLaunchdPlistStartsAgent(t *testing.T) {
	u := newUser(t)
	installForUnit(t, u)
	job := readPlist(t, plistPath)
	tmp := filepath.Join(u.dir, "T") // as launchd's per-user /var/folders/…/T
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	mac := []string{"HOME=" + u.home, "TMPDIR=" + tmp, "LANG=C.UTF-8"}
	env := append([]string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}, mac...)
	for k, v := range job["EnvironmentVariables"].(map[string]any) {
		env = append(env, k+"="+v.(string))
	}
	args := programArguments(t, job)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatalf("ProgramArguments %q: %v", args, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// A Terminal's rhizome: the same HOME and TMPDIR, and its own PATH.
	client := append([]string{"PATH=" + binDir + ":/usr/bin:/bin"}, mac...)
	socket := filepath.Join(tmp, "rhizome-"+strconv.Itoa(os.Getuid()), "agent.sock")
	a := waitForAgentAt(t, client, exited)
	if a.Socket != socket || a.PID != cmd.Process.Pid {
		t.Errorf("agent answering by default = pid %d on %s, want pid %d (the job's own, the shell exec'd it) on %s", a.PID, a.Socket, cmd.Process.Pid, socket)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("agent stopped by SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("agent did not exit within a minute of SIGTERM")
	}
	if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after the agent stopped, %s is still there (stat: %v)", socket, err)
	}
}

// waitForAgentAt waits until `rhizome version --json`, run with env, finds an agent, or the
// process that should become it exits.
func waitForAgentAt(t *testing.T, env []string, exited <-chan error) agentInfo {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("ProgramArguments exited before an agent answered: %v", err)
		default:
		}
		cmd := exec.Command(filepath.Join(binDir, "rhizome"), "version", "--json")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("rhizome version --json: %v", err)
		}
		var v struct {
			Agent *agentInfo `json:"agent"`
		}
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		if v.Agent != nil {
			return *v.Agent
		}
	}
	t.Fatal("no agent answered on the default socket within 30s of ProgramArguments")
	return agentInfo{}
}

func programArguments(t *testing.T, job map[string]any) []string {
	t.Helper()
	list, ok := job["ProgramArguments"].([]any)
	if !ok {
		t.Fatalf("ProgramArguments = %v, want an array", job["ProgramArguments"])
	}
	var args []string
	for _, a := range list {
		s, ok := a.(string)
		if !ok {
			t.Fatalf("ProgramArguments holds %v, want strings only", a)
		}
		args = append(args, s)
	}
	return args
}

// readPlist decodes an XML property list whose top value is a dict.
func readPlist(t *testing.T, path string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	d.Strict = true
	root, err := nextStart(d)
	if err != nil || root.Name.Local != "plist" {
		t.Fatalf("%s: want a <plist> root: %v", path, err)
	}
	top, err := nextStart(d)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v, err := plistValue(d, top)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	job, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: top value is %T, want a dict", path, v)
	}
	if _, err := nextStart(d); err != io.EOF {
		t.Fatalf("%s: want </plist> and nothing after the dict, got %v", path, err)
	}
	return job
}

// nextStart returns the next start element, skipping text, comments and directives; io.EOF
// once the document ends, an error at any other end element than </plist>.
func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			return tok, nil
		case xml.EndElement:
			if tok.Name.Local != "plist" {
				return xml.StartElement{}, fmt.Errorf("unexpected </%s>", tok.Name.Local)
			}
		case xml.CharData:
			if strings.TrimSpace(string(tok)) != "" {
				return xml.StartElement{}, fmt.Errorf("stray text %q", tok)
			}
		}
	}
}

// plistValue decodes the value that start opens.
func plistValue(d *xml.Decoder, start xml.StartElement) (any, error) {
	switch start.Name.Local {
	case "string", "integer":
		var s string
		if err := d.DecodeElement(&s, &start); err != nil {
			return nil, err
		}
		if start.Name.Local == "integer" {
			return strconv.Atoi(strings.TrimSpace(s))
		}
		return s, nil
	case "true", "false":
		if err := d.Skip(); err != nil {
			return nil, err
		}
		return start.Name.Local == "true", nil
	case "array", "dict":
		var items []any
		var keys []string
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch tok := tok.(type) {
			case xml.EndElement:
				if start.Name.Local == "array" {
					return items, nil
				}
				if len(items) != len(keys) {
					return nil, fmt.Errorf("dict key %q has no value", keys[len(keys)-1])
				}
				m := map[string]any{}
				for i, k := range keys {
					m[k] = items[i]
				}
				return m, nil
			case xml.StartElement:
				if start.Name.Local == "dict" && len(keys) == len(items) {
					if tok.Name.Local != "key" {
						return nil, fmt.Errorf("dict holds <%s> where a <key> belongs", tok.Name.Local)
					}
					var k string
					if err := d.DecodeElement(&k, &tok); err != nil {
						return nil, err
					}
					keys = append(keys, k)
					continue
				}
				v, err := plistValue(d, tok)
				if err != nil {
					return nil, err
				}
				items = append(items, v)
			}
		}
	}
	return nil, fmt.Errorf("<%s> is not a plist value", start.Name.Local)
}
