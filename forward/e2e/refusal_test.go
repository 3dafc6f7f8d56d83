package e2e_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClientsHearWhyTheForwardCannotServe: when the door cannot serve a client (the forward
// reconnects past connect-wait, or is stopped while the client waits), the real mariadb and
// psql print the forward's name, state, reason and fix, not "Lost connection".
func TestClientsHearWhyTheForwardCannotServe(t *testing.T) {
	u := newUser(t, 33806)
	u.addLedger(33816)
	u.addConfig("environment na-prod\n    connect-wait 2s\n")
	port := portOf(u.mustForward())
	pgPort := strconv.Itoa(u.handleOf("na-prod", "ledger").LocalPort)
	if err := cluster.StopKWOK(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.StartKWOK(ctx); err != nil {
			t.Error(err)
		}
	})
	eventually(t, 60*time.Second, "ps showing both forwards reconnecting", func() error {
		for _, p := range u.ps().Running {
			if p.State != "reconnecting" {
				return fmt.Errorf("%s is %s", p.Name, p.State)
			}
		}
		return nil
	})
	// The words are ps's: the state, and the fix for the latest failure.
	fixes := map[string]string{}
	for _, p := range u.ps().Running {
		fixes[p.Name] = p.Fix[:min(len(p.Fix), 60)]
	}
	out, err := mariadbAs(nil, append(tcp(port), "-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, "-e", "SELECT 1")...)
	if err == nil || !strings.Contains(out, "rhizome: na-prod/bookkeeper is reconnecting (attempt") || !strings.Contains(out, fixes["na-prod/bookkeeper"]) {
		t.Errorf("mariadb to a reconnecting forward = %q, %v; want its name, state and the fix %q", out, err, fixes["na-prod/bookkeeper"])
	}
	t.Logf("mariadb said: %s", out)
	out, err = psqlAs(nil, "127.0.0.1", pgPort, cluster.Postgres.User, "SELECT 1")
	if err == nil || !strings.Contains(out, "rhizome: na-prod/ledger is reconnecting (attempt") || !strings.Contains(out, "HINT:  "+fixes["na-prod/ledger"]) {
		t.Errorf("psql to a reconnecting forward = %q, %v; want its name, state and the fix %q as the hint", out, err, fixes["na-prod/ledger"])
	}
	t.Logf("psql said: %s", out)

	// A client waiting at the door when the forward is stopped hears so.
	held := make(chan string, 1)
	go func() {
		out, _ := psqlAs(nil, "127.0.0.1", pgPort, cluster.Postgres.User, "SELECT 1")
		held <- out
	}()
	time.Sleep(500 * time.Millisecond)
	if _, stderr, err := u.rhizome("stop", "na-prod/ledger"); err != nil {
		t.Fatalf("stop: %v: %s", err, stderr)
	}
	if out := <-held; !strings.Contains(out, "rhizome: na-prod/ledger was stopped") || !strings.Contains(out, "rhizome forward na-prod ledger") {
		t.Errorf("psql held when its forward was stopped = %q; want it stopped and how to start it", out)
	}
}

// TestSimulatedMySQLSaysWhatItIs: a real client of the simulated MySQL forward hears that
// no server is behind it, as the simulated PostgreSQL one says.
func TestSimulatedMySQLSaysWhatItIs(t *testing.T) {
	u := newUser(t, 33826, "RHIZOME_SIMULATE=true")
	port := portOf(u.mustForward())
	out, err := mariadbAs(nil, append(tcp(port), "-u", "someone", "-e", "SELECT 1")...)
	if err == nil || !strings.Contains(out, "simulated forward") {
		t.Errorf("mariadb to the simulated forward = %q, %v; want it to say it is simulated", out, err)
	}
}
