package postgres_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rhizome-dev/rhizome/forward/engine/postgres"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// TestRefuseShowsMessageAndHint: the real psql and pgx show a refusal's message and hint, and
// its SQLSTATE says whether to try again.
func TestRefuseShowsMessageAndHint(t *testing.T) {
	for _, r := range []wire.Refusal{
		{Message: "rhizome: na-prod/books is reconnecting (attempt 7): the API server does not answer", Hint: "check your network or VPN", Transient: true},
		{Message: "rhizome: na-prod/books failed: pods \"books-0\" is forbidden", Hint: "ask for pods/portforward in na-prod"},
	} {
		addr := loopback.Serve(t, func(c net.Conn) {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_ = postgres.Refuse(c, r)
		})
		_, port, _ := net.SplitHostPort(addr)
		wantState := "08006"
		if r.Transient {
			wantState = "57P03"
		}

		out, err := psqlCmd(t, "host=127.0.0.1 port="+port+" user=app dbname=books", "SELECT 1")
		if err == nil || !strings.Contains(out, "FATAL:  "+r.Message) || !strings.Contains(out, "HINT:  "+r.Hint) {
			t.Errorf("psql through Refuse(%+v): %v\n%s", r, err, out)
		}

		for _, mode := range []string{"disable", "prefer"} {
			conn, err := pgx.Connect(t.Context(), "host=127.0.0.1 port="+port+" user=app dbname=books sslmode="+mode)
			var pgErr *pgconn.PgError
			if err == nil {
				conn.Close(t.Context())
				t.Fatalf("pgx (sslmode=%s) through Refuse: no error", mode)
			}
			if !errors.As(err, &pgErr) || pgErr.Message != r.Message || pgErr.Hint != r.Hint || pgErr.Code != wantState || pgErr.Severity != "FATAL" {
				t.Errorf("pgx (sslmode=%s) through Refuse(%+v) = %v (%#v)", mode, r, err, pgErr)
			}
		}
	}
}
