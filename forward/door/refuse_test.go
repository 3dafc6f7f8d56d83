package door

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// mysqlClientError connects go-sql-driver to the door's port and returns the error it reports.
func mysqlClientError(t *testing.T, d *Door) error {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Timeout = "tcp", fmt.Sprintf("127.0.0.1:%d", d.Port()), "someone", 10*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Ping()
}

// TestRefusalsInTheClientsProtocol: a MySQL client that the door cannot serve reads why as a
// MySQL error: after connect-wait, and when the door closes while it waits; a forward that
// waiting cannot help holds it only hopelessWait.
func TestRefusalsInTheClientsProtocol(t *testing.T) {
	words := wire.Refusal{Message: "rhizome: test/door is reconnecting (attempt 2)", Hint: "check your network or VPN", Transient: true}
	refusal := func() wire.Refusal { return words }
	mysqlDoor := func(wait time.Duration) Config {
		cfg := testConfig(t, wait, env.MySQL)
		cfg.Wire = engine.For(env.MySQL)
		return cfg
	}
	d, logged := testDoorWith(t, mysqlDoor(300*time.Millisecond), Hooks{Refusal: refusal})
	if err := mysqlClientError(t, d); err == nil || !strings.Contains(err.Error(), words.Text()) {
		t.Errorf("a client past connect-wait got %v, want the refusal %q", err, words.Text())
	}
	for start := time.Now(); !strings.Contains(logged(), "told it: "+words.Text()); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 5*time.Second { // the client may read the words before the door logs them
			t.Fatalf("log = %q, want the refusal told", logged())
		}
	}

	words = wire.Refusal{Message: "rhizome: test/door needs a login", Hint: "log in again: gcloud auth login"}
	hopeless, _ := testDoorWith(t, mysqlDoor(time.Minute), Hooks{Refusal: refusal})
	start := time.Now()
	if err := mysqlClientError(t, hopeless); err == nil || !strings.Contains(err.Error(), "gcloud auth login") {
		t.Errorf("a client of a forward that needs a login got %v, want the refusal", err)
	}
	if took := time.Since(start); took > hopelessWait+5*time.Second {
		t.Errorf("a client of a forward that needs a login waited %v, want about %v, not connect-wait", took, hopelessWait)
	}

	words = wire.Refusal{Message: "rhizome: test/door was stopped", Hint: "start it again with: rhizome forward test door", Transient: true}
	closing, _ := testDoorWith(t, mysqlDoor(time.Minute), Hooks{Refusal: refusal})
	got := make(chan error, 1)
	go func() { got <- mysqlClientError(t, closing) }()
	for closing.Traffic().Active == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	closing.Close("stopped")
	if err := <-got; err == nil || !strings.Contains(err.Error(), "was stopped") {
		t.Errorf("a client waiting as the door closed got %v, want told it was stopped", err)
	}
}
