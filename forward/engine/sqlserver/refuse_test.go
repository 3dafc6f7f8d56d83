package sqlserver_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/rhizome-dev/rhizome/forward/engine/sqlserver"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// TestRefuseWithTheRealDriver: Microsoft's Go driver shows a refusal's text as its login
// error, with the number that says whether to retry, when it can do without TLS; one that
// requires TLS is closed without an answer.
func TestRefuseWithTheRealDriver(t *testing.T) {
	for _, r := range []wire.Refusal{
		{Message: "rhizome: na-prod/ledger is reconnecting (attempt 3): the API server does not answer", Hint: "check your network or VPN", Transient: true},
		{Message: "rhizome: na-prod/ledger has stopped", Hint: "run rhizome up ledger"},
	} {
		errc := make(chan error, 4)
		addr := loopback.Serve(t, func(c net.Conn) {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			errc <- sqlserver.Refuse(c, r)
		})
		wantNumber := int32(50000)
		if r.Transient {
			wantNumber = 40613
		}
		for _, encrypt := range []string{"disable", "false"} {
			err := ping(t, "sqlserver://app:secret@"+addr+"?encrypt="+encrypt+"&dial+timeout=5")
			var msErr mssql.Error
			if !errors.As(err, &msErr) || msErr.Number != wantNumber || !strings.Contains(msErr.Message, r.Text()) {
				t.Errorf("go-mssqldb (encrypt=%s) through Refuse(%+v) = %v (%#v)", encrypt, r, err, msErr)
			}
			if err := <-errc; err != nil {
				t.Errorf("Refuse(encrypt=%s) = %v", encrypt, err)
			}
		}
		if err := ping(t, "sqlserver://app:secret@"+addr+"?encrypt=true&dial+timeout=5"); err == nil {
			t.Error("go-mssqldb (encrypt=true) through Refuse: no error")
		}
		if err := <-errc; err == nil || !strings.Contains(err.Error(), "requires encryption") {
			t.Errorf("Refuse(a client requiring TLS) = %v, want an error saying so", err)
		}
	}
}

func ping(t *testing.T, dsn string) error {
	t.Helper()
	c, err := mssql.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}
