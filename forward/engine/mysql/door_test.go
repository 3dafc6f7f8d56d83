package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// passwordCommand is the made-up password command of the door's logins, as its hints name it.
const passwordCommand = "password-command print-password"

// mariadbClient runs the real mariadb client at the door's addr (a TCP address or a socket
// path) with args, and returns its output and error.
func mariadbClient(t testing.TB, addr string, args ...string) (string, error) {
	t.Helper()
	client, err := exec.LookPath("mariadb")
	if err != nil {
		t.Skip("no mariadb client: install Debian's mariadb-client")
	}
	full := []string{"--no-defaults", "--connect-timeout=10", "--batch", "--skip-column-names"}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		full = append(full, "--protocol=tcp", "-h", host, "-P", port)
	} else {
		full = append(full, "--protocol=socket", "-S", addr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, client, append(full, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// goDSN is go-sql-driver's data source name for user (and password, if any) at the door's
// addr, with database db.
func goDSN(addr, user, password, db string) string {
	cred := user
	if password != "" {
		cred += ":" + password
	}
	network := "tcp"
	if _, _, err := net.SplitHostPort(addr); err != nil {
		network = "unix"
	}
	return fmt.Sprintf("%s@%s(%s)/%s?timeout=10s", cred, network, addr, db)
}

// isNoGreeting reports whether errs hold one that wraps wire.ErrNoGreeting.
func isNoGreeting(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, wire.ErrNoGreeting) {
			return true
		}
	}
	return false
}
