package env

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func parseString(t *testing.T, text string) (*Catalog, error) {
	t.Helper()
	c := &Catalog{envs: builtins()}
	return c, c.parse("config", strings.NewReader(text))
}

func TestBuiltinResolves(t *testing.T) {
	c, err := parseString(t, "")
	if err != nil {
		t.Fatal(err)
	}
	e, db, err := c.Resolve("na-prod", "bookkeeper")
	if err != nil {
		t.Fatalf("Resolve(na-prod, bookkeeper) = %v", err)
	}
	if e.Context != "gke_clover-prod-kubernetes_us-central1_na-prod-us-central1-cluster" || e.Namespace != "gke-cloudsql-access" ||
		e.Deployment != "gke-cloudsql-access" || db.Instance != "clover-prod-databases:us-central1:billing-bookkeeper" || db.LocalPort != 3306 {
		t.Errorf("Resolve(na-prod, bookkeeper) = %+v %+v, want the seed's environment", e, db)
	}
}

func TestConfigAddsAndOverrides(t *testing.T) {
	c, err := parseString(t, `
# comment
environment eu-prod
    alias eu
    context gke_x_europe-west1_eu
    namespace ns
    deployment dep
    connect-command /bin/connect --fast
    database bookkeeper
        alias bk books
        instance proj:europe-west1:bk   # trailing comment
        port 3310
environment na-prod
    database ledger
        instance clover-prod-databases:us-central1:ledger
`)
	if err != nil {
		t.Fatal(err)
	}
	e, db, err := c.Resolve("eu", "books")
	if err != nil {
		t.Fatalf("Resolve(eu, books) = %v", err)
	}
	if e.Name != "eu-prod" || db.Instance != "proj:europe-west1:bk" || db.LocalPort != 3310 || strings.Join(e.Connect(), " ") != "/bin/connect --fast" {
		t.Errorf("Resolve(eu, books) = %+v %+v", e, db)
	}
	_, ledger, err := c.Resolve("na-prod", "ledger")
	if err != nil || ledger.LocalPort != 3306 {
		t.Errorf("Resolve(na-prod, ledger) = %+v, %v; want default port 3306", ledger, err)
	}
	if _, _, err := c.Resolve("na-prod", "bookkeeper"); err != nil {
		t.Errorf("built-in database lost after override: %v", err)
	}
	if got := strings.Join(c.Names(), ","); got != "eu-prod,na-prod" {
		t.Errorf("Names() = %q, want eu-prod,na-prod", got)
	}
}

func TestConfigErrorsNameLine(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown keyword", "environment x\n  contxt c\n", "config:2: unknown keyword \"contxt\""},
		{"database outside", "database db\n", "config:1: database outside an environment"},
		{"bad port", "environment x\n context c\n namespace n\n deployment d\n database db\n  instance p:r:i\n  port 99999\n", "config:7: port \"99999\""},
		{"flag-like context", "environment x\n context --kubeconfig=/etc/x\n", "config:2: context \"--kubeconfig=/etc/x\" is not a name kubectl accepts"},
		{"bad instance", "environment x\n database db\n  instance not-an-instance\n", "config:3: instance \"not-an-instance\""},
		{"missing context", "environment x\n namespace n\n deployment d\n", "config:1: environment x has no context"},
		{"missing instance", "environment x\n context c\n namespace n\n deployment d\n database db\n", "config:5: database db of environment x has no instance"},
		{"two values", "environment a b\n", "config:1: environment takes one value, got 2"},
		{"pattern without group", "environment x\n port-pattern Listening\n", "config:2: port-pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseString(t, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse(%q) = %v, want error containing %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestUnknownNames(t *testing.T) {
	c, _ := parseString(t, "")
	tests := []struct{ env, db, want string }{
		{"nowhere", "bookkeeper", `no environment "nowhere"; known: na-prod`},
		{"na-prod", "nothing", `environment na-prod has no database "nothing"; it has: bookkeeper`},
	}
	for _, tt := range tests {
		_, _, err := c.Resolve(tt.env, tt.db)
		if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Resolve(%q, %q) = %v, want ErrUnknown containing %q", tt.env, tt.db, err, tt.want)
		}
	}
}

func TestPaths(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	t.Setenv("XDG_STATE_HOME", "/state")
	t.Setenv("XDG_CONFIG_HOME", "/conf")
	t.Setenv(VarSock, "")
	tests := []struct{ name, got, want string }{
		{"DefaultSocket", DefaultSocket(), "/run/user/7/rhizome/agent.sock"},
		{"ClientSocket", ClientSocket(""), "/run/user/7/rhizome/agent.sock"},
		{"LogFile", LogFile(), "/state/rhizome/agent.log"},
		{"ConfigFile", ConfigFile(), "/conf/rhizome/config"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s() = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := DefaultSocket(); !strings.Contains(got, "/rhizome-") || !strings.HasSuffix(got, "/agent.sock") {
		t.Errorf("DefaultSocket() without XDG_RUNTIME_DIR = %q, want a per-uid dir under TMPDIR", got)
	}
}

func TestConfigDurations(t *testing.T) {
	c, err := parseString(t, `
environment na-prod
    connect-wait 10s
    idle-timeout 2h
    max-age 0
`)
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := c.Resolve("na-prod", "bookkeeper")
	if err != nil {
		t.Fatal(err)
	}
	if e.ConnectWait != 10*time.Second || e.IdleTimeout != 2*time.Hour || e.MaxAge != 0 {
		t.Errorf("durations = %v %v %v, want 10s 2h 0", e.ConnectWait, e.IdleTimeout, e.MaxAge)
	}
	for _, tt := range []struct{ name, text, want string }{
		{"not a duration", "environment na-prod\n  idle-timeout 2 hours\n", `config:2: idle-timeout takes one value, got 2`},
		{"no unit", "environment na-prod\n  idle-timeout 90\n", `config:2: idle-timeout "90": want a Go duration such as 90s, 15m or 2h (0 turns it off)`},
		{"negative", "environment na-prod\n  max-age -1h\n", `config:2: max-age "-1h": want a Go duration`},
		{"zero wait", "environment na-prod\n  connect-wait 0s\n", `config:2: connect-wait "0s": want a Go duration such as 10s or 2m`},
		{"in a database", "environment na-prod\n  database bookkeeper\n    idle-timeout 1h\n", `config:3: idle-timeout belongs to an environment, before its databases`},
	} {
		if _, err := parseString(t, tt.text); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: parse = %v, want %q", tt.name, err, tt.want)
		}
	}
}
