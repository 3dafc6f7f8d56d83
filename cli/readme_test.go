package cli_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

// readmeExample returns the output lines the README shows under the line "$ COMMAND", up to
// the next blank line or prompt.
func readmeExample(t *testing.T, command string) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if line != "$ "+command {
			continue
		}
		var out []string
		for _, l := range lines[i+1:] {
			if l == "" || strings.HasPrefix(l, "$ ") || strings.HasPrefix(l, "```") {
				break
			}
			out = append(out, l)
		}
		return out
	}
	t.Fatalf("README.md has no example of $ %s", command)
	return nil
}

// skeleton keeps what an example shares with any real run: numbers, paths and versions become
// placeholders, runs of blanks one blank.
func skeleton(line string) string {
	for _, r := range []struct{ re, with string }{
		{`\(([^,()]+), protocol`, "(VERSION, protocol"},
		{`/\S+`, "PATH"},
		{`\d+`, "N"},
		{`\s+`, " "},
	} {
		line = regexp.MustCompile(r.re).ReplaceAllString(line, r.with)
	}
	return strings.TrimSpace(line)
}

// TestReadmeExamples holds the README's examples to what the binary really prints: the ps
// table's columns, the handle's JSON fields, and doctor's lines (and the protocol it names).
func TestReadmeExamples(t *testing.T) {
	u := newUser(t)
	// The README's own config example adds ledger to na-prod.
	f, err := os.OpenFile(u.dir+"/config/rhizome/config", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("environment na-prod\n    database ledger\n        engine postgres\n        instance clover-prod-databases:us-central1:ledger\n")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	u.setenv("RHIZOME_SIMULATE", "true")
	u.setenv("SLEEP_OVERRIDE", "0.2")
	u.rhizome("agent", "-s", "-q")
	handle := u.rhizome("forward", "--json", "na-prod", "bookkeeper")

	t.Run("ps header", func(t *testing.T) {
		real := skeleton(strings.SplitN(u.rhizome("ps"), "\n", 2)[0])
		for _, cmd := range []string{"rhizome ps", "rhizome ps -w"} {
			if got := skeleton(readmeExample(t, cmd)[0]); got != real {
				t.Errorf("README's $ %s shows the columns %q; rhizome ps prints %q", cmd, got, real)
			}
		}
	})

	t.Run("forward --json fields", func(t *testing.T) {
		var real, shown map[string]any
		if err := json.Unmarshal([]byte(handle), &real); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(strings.Join(readmeExample(t, "rhizome forward --json na-prod bookkeeper"), "\n")), &shown); err != nil {
			t.Fatalf("README's forward --json example is not JSON: %v", err)
		}
		delete(real, "simulated") // this run's; the README shows a real forward
		if got, want := sortedKeys(shown), sortedKeys(real); !slices.Equal(got, want) {
			t.Errorf("README's forward --json example has the fields %q; rhizome prints %q", got, want)
		}
	})

	t.Run("doctor", func(t *testing.T) {
		cmd := u.command(binDir+"/rhizome", "doctor", "na-prod")
		out, _ := cmd.Output() // exit 1: the context is missing here, as in the example
		var real []string
		for _, l := range strings.Split(string(out), "\n") {
			real = append(real, skeleton(l))
		}
		for _, l := range readmeExample(t, "rhizome doctor na-prod") {
			if name, _, _ := strings.Cut(l, ":"); name == "✓ kubectl" || name == "✓ na-prod context" || name == "✗ na-prod context" {
				continue // depend on the machine's kubectl and kubeconfig
			}
			if !slices.Contains(real, skeleton(l)) {
				t.Errorf("README's doctor line %q has no counterpart in rhizome doctor's output:\n%s", l, out)
			}
			if m := regexp.MustCompile(`protocol (\d+)`).FindStringSubmatch(l); m != nil && m[1] != strconv.Itoa(rpc.ProtocolVersion) {
				t.Errorf("README's doctor line says protocol %s; this rhizome speaks %d", m[1], rpc.ProtocolVersion)
			}
		}
	})
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
