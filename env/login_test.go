package env

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigLogin(t *testing.T) {
	c, err := parseString(t, `
environment eu-prod
    context gke_x
    namespace ns
    deployment dep
    user alice@example.com
    password-command gcloud sql generate-login-token
    database bookkeeper
        instance proj:europe-west1:bk
    database ledger
        engine postgres
        instance proj:europe-west1:ledger
        user ledger-reader
        password-ttl 0
    database payroll
        instance proj:europe-west1:payroll
        password-command /usr/local/bin/payroll-token --fresh
        password-ttl 90s
environment na-prod
    database bookkeeper
        user bob
`)
	if err != nil {
		t.Fatal(err)
	}
	token := []string{"gcloud", "sql", "generate-login-token"}
	for _, tt := range []struct {
		name, env, db string
		want          Login
	}{
		{"the environment's", "eu-prod", "bookkeeper", Login{User: "alice@example.com", PasswordCommand: token, PasswordTTL: DefaultPasswordTTL}},
		{"its own user and ttl 0", "eu-prod", "ledger", Login{User: "ledger-reader", PasswordCommand: token, PasswordTTL: 0}},
		{"its own command and ttl", "eu-prod", "payroll", Login{User: "alice@example.com", PasswordCommand: []string{"/usr/local/bin/payroll-token", "--fresh"}, PasswordTTL: 90 * time.Second}},
		{"a user alone", "na-prod", "bookkeeper", Login{User: "bob", PasswordTTL: DefaultPasswordTTL}},
	} {
		_, db, err := c.Resolve(tt.env, tt.db)
		if err != nil {
			t.Fatal(err)
		}
		got := db.Login
		if got.User != tt.want.User || !slices.Equal(got.PasswordCommand, tt.want.PasswordCommand) || got.PasswordTTL != tt.want.PasswordTTL {
			t.Errorf("%s: Login of %s/%s = %+v, want %+v", tt.name, tt.env, tt.db, got, tt.want)
		}
	}
	// Loading again (validate runs once per Load) keeps each database's own settings.
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if _, db, _ := c.Resolve("eu-prod", "ledger"); db.Login.User != "ledger-reader" || db.Login.PasswordTTL != 0 {
		t.Errorf("Login of eu-prod/ledger after a second validate = %+v", db.Login)
	}
}

func TestForwardParamsCarryTheLogin(t *testing.T) {
	c, err := parseString(t, `
environment na-prod
    database bookkeeper
        user alice
        password-command /bin/token
        password-ttl 2m
    database ledger
        instance clover-prod-databases:us-central1:ledger
        user bob
`)
	if err != nil {
		t.Fatal(err)
	}
	e, db, _ := c.Resolve("na-prod", "bookkeeper")
	p := ForwardParams(e, db)
	if p.User != "alice" || !slices.Equal(p.PasswordCommand, []string{"/bin/token"}) || time.Duration(p.PasswordTTL) != 2*time.Minute {
		t.Errorf("ForwardParams(bookkeeper) login = %q %q %v, want alice /bin/token 2m", p.User, p.PasswordCommand, p.PasswordTTL)
	}
	e, db, _ = c.Resolve("na-prod", "ledger")
	p = ForwardParams(e, db)
	if p.User != "bob" || p.PasswordCommand != nil || p.PasswordTTL != 0 {
		t.Errorf("ForwardParams(ledger) login = %q %q %v, want bob and no command or ttl", p.User, p.PasswordCommand, p.PasswordTTL)
	}
}

func TestConfigLoginErrors(t *testing.T) {
	for _, tt := range []struct{ name, text, want string }{
		{"outside an environment", "user alice\n", `config:1: user belongs to an environment or a database`},
		{"two users", "environment na-prod\n user a\n user b\n", `config:3: user of environment na-prod is given twice (first on line 2): keep one`},
		{"user as a flag", "environment na-prod\n database bookkeeper\n  user --init-command=x\n", `config:3: user "--init-command=x": it starts with '-'`},
		{"user of two words", "environment na-prod\n user alice smith\n", `config:2: user takes one value, got 2`},
		{"no command", "environment na-prod\n password-command\n", `config:2: password-command needs a program`},
		{"command as a flag", "environment na-prod\n password-command --token\n", `config:2: password-command program "--token": want a program, not a flag`},
		{"relative command", "environment na-prod\n password-command bin/token\n", `config:2: password-command program "bin/token": want an absolute path or a program name on the agent's PATH`},
		{"home command", "environment na-prod\n password-command ~/bin/token\n", `config:2: password-command program "~/bin/token": want an absolute path`},
		{"negative ttl", "environment na-prod\n password-ttl -1m\n", `config:2: password-ttl "-1m": want a Go duration such as 5m or 1h (0: run the password-command for every connection)`},
		{"ttl without unit", "environment na-prod\n database bookkeeper\n  password-ttl 300\n", `config:3: password-ttl "300": want a Go duration`},
		{"two ttls", "environment na-prod\n database bookkeeper\n  password-ttl 1m\n  password-ttl 2m\n", `config:4: password-ttl of database na-prod/bookkeeper is given twice (first on line 3)`},
		{"typo", "environment na-prod\n pasword-command x\n", `config:2: unknown keyword "pasword-command": did you mean "password-command"?`},
	} {
		if _, err := parseString(t, tt.text); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: parse = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCheckUserAndPasswordCommand(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"user", CheckUser("alice"), true},
		{"IAM user", CheckUser("sa-reader@proj.iam"), true},
		{"user with a quote", CheckUser("o'brien"), true},
		{"empty user", CheckUser(""), false},
		{"user with a space", CheckUser("alice smith"), false},
		{"user with a NUL", CheckUser("alice\x00root"), false},
		{"overlong user", CheckUser(strings.Repeat("a", maxUser+1)), false},
		{"command on PATH", CheckPasswordCommand([]string{"gcloud", "sql", "generate-login-token"}), true},
		{"absolute command", CheckPasswordCommand([]string{"/opt/bin/token"}), true},
		// No shell runs it: shell characters are just characters.
		{"shell characters", CheckPasswordCommand([]string{"pass", "show", "db/$(prod)|x"}), true},
		{"no command", CheckPasswordCommand(nil), false},
		{"relative path", CheckPasswordCommand([]string{"./token"}), false},
		{"flag", CheckPasswordCommand([]string{"-c"}), false},
		{"empty word", CheckPasswordCommand([]string{"token", ""}), false},
		{"control character", CheckPasswordCommand([]string{"token", "a\nb"}), false},
	} {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, tt.err, tt.ok)
		}
	}
}
