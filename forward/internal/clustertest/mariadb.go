package clustertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// MySQL is how to reach the cluster's MariaDB server directly, without the pod.
type MySQL struct {
	Addr     string // host:port on loopback
	User     string
	Password string
	Database string // User has all privileges on it
}

// installOne serializes mariadb-install-db: two of them bootstrapping at once (clusters started
// side by side) crashed one here with SIGSEGV in its Aria temporary tables.
var installOne sync.Mutex

// installMariaDB makes a fresh data folder at data.
func installMariaDB(ctx context.Context, t tools, data string) error {
	installOne.Lock()
	defer installOne.Unlock()
	install := exec.CommandContext(ctx, t.installDB, "--no-defaults",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--datadir="+data)
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
	}
	return nil
}

// startMariaDB makes a fresh data folder in dir and runs mariadbd on 127.0.0.1:port with db's
// user and database, waiting until it greets a client. The caller owns the returned child.
func startMariaDB(ctx context.Context, sp *spawner, t tools, dir string, port int, db MySQL) (*child, error) {
	data := filepath.Join(dir, "mysql")
	if err := installMariaDB(ctx, t, data); err != nil {
		return nil, err
	}
	// The init file runs before the server accepts connections, so a greeting means the user
	// and database exist.
	initSQL := fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`;\n"+
		"CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n"+
		"GRANT ALL ON `%s`.* TO '%s'@'%%';\n",
		db.Database, db.User, db.Password, db.Database, db.User)
	initFile := filepath.Join(dir, "mysql-init.sql")
	if err := os.WriteFile(initFile, []byte(initSQL), 0o600); err != nil {
		return nil, fmt.Errorf("writing mariadb init file: %w", err)
	}
	logPath := filepath.Join(dir, "mariadb.log")
	cmd := exec.Command(t.mariadbd, "--no-defaults",
		"--user=root", // mariadbd refuses to run as root without it
		"--datadir="+data,
		"--socket="+filepath.Join(dir, "mysql.sock"),
		"--bind-address=127.0.0.1",
		"--port="+strconv.Itoa(port),
		"--init-file="+initFile,
		"--skip-name-resolve",
		"--skip-log-bin",
		"--innodb-buffer-pool-size=16M",
		"--log-warnings=4", // the log names each aborted connection, for tests that count them
	)
	c, err := sp.start("mariadbd", logPath, cmd)
	if err != nil {
		return nil, err
	}
	if err := waitChild(ctx, c, logPath, func() error { return greets(db.Addr) }); err != nil {
		c.stop(0)
		return nil, err
	}
	return c, nil
}

// greets reports whether a MySQL server at addr sends its handshake: protocol version 10 in the
// first byte of the first packet's payload.
func greets(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	var head [5]byte // 3-byte length, sequence number, protocol version
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return fmt.Errorf("reading server greeting: %w", err)
	}
	if head[4] != 10 {
		return fmt.Errorf("server greeting starts with %#x, not protocol version 10", head[4])
	}
	return nil
}
