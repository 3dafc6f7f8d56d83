package dbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MariaDBServer is a running MariaDB server that a test started with MariaDB.
type MariaDBServer struct {
	Addr     string // 127.0.0.1:port
	Socket   string // its Unix socket, where root logs in without a password
	User     string // has all privileges on Database; logs in with mysql_native_password
	Password string
	Database string
	Version  string // as its greeting says, e.g. "5.5.5-10.11.19-MariaDB-0+deb12u1"
}

// installOne serializes mariadb-install-db: two of them bootstrapping at once crashed one with
// SIGSEGV in its Aria temporary tables (see clustertest).
var installOne sync.Mutex

// mariadbStart bounds the install and the start of one server.
const mariadbStart = 2 * time.Minute

// MariaDB starts a MariaDB server for t with a fresh data folder, a user alice with password
// "alice-secret" and a database app, and stops it when t ends. It skips t when mariadbd,
// mariadb-install-db or the mariadb client is not installed.
func MariaDB(t testing.TB) MariaDBServer {
	t.Helper()
	mariadbd, installDB, _ := lookMariaDB(t)
	// A short folder: the socket's path must fit in 104 bytes, and t.TempDir() can be longer.
	dir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := MariaDBServer{
		Socket:   filepath.Join(dir, "sock"),
		User:     "alice",
		Password: "alice-secret",
		Database: "app",
	}
	ctx, cancel := context.WithTimeout(context.Background(), mariadbStart)
	defer cancel()
	data := filepath.Join(dir, "data")
	installOne.Lock()
	out, err := exec.CommandContext(ctx, installDB, "--no-defaults",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--datadir="+data).CombinedOutput()
	installOne.Unlock()
	if err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	// The init file runs before the server takes connections, so a greeting means the user
	// and database exist.
	initFile := filepath.Join(dir, "init.sql")
	initSQL := fmt.Sprintf("CREATE DATABASE `%s`;\n"+
		"CREATE USER '%s'@'%%' IDENTIFIED VIA mysql_native_password USING PASSWORD('%s');\n"+
		"GRANT ALL ON `%s`.* TO '%s'@'%%';\n", s.Database, s.User, s.Password, s.Database, s.User)
	if err := os.WriteFile(initFile, []byte(initSQL), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logPath := filepath.Join(dir, "mariadb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(mariadbd, "--no-defaults",
		"--user=root", // mariadbd refuses to run as root without it, and ignores it otherwise
		"--datadir="+data,
		"--socket="+s.Socket,
		"--pid-file="+filepath.Join(dir, "pid"),
		"--bind-address=127.0.0.1",
		"--port="+strconv.Itoa(port),
		"--init-file="+initFile,
		"--skip-name-resolve",
		"--skip-log-bin",
		"--max-connect-errors=100000", // tests that fail logins on purpose must not block the host
		"--innodb-buffer-pool-size=16M",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mariadbd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // the one owner of Wait
	t.Cleanup(func() { stopMariaDB(t, cmd, exited) })
	for {
		version, err := greeting(s.Addr)
		if err == nil {
			s.Version = version
			break
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			log, _ := os.ReadFile(logPath)
			t.Fatalf("mariadbd exited before it took connections: %v\n%s", err, log)
		case <-ctx.Done():
			log, _ := os.ReadFile(logPath)
			t.Fatalf("mariadbd did not greet at %s within %v: %v\n%s", s.Addr, mariadbStart, err, log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s
}

// stopMariaDB stops the server with SIGTERM, as its service would, then SIGKILL after a grace
// period.
func stopMariaDB(t testing.TB, cmd *exec.Cmd, exited chan error) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Logf("mariadbd did not stop on SIGTERM in 30s: killing it")
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Query runs sql as root over the server's Unix socket with the mariadb client and returns its
// output, tab-separated without column names.
func (s MariaDBServer) Query(t testing.TB, sql string) string {
	t.Helper()
	out, err := exec.Command(lookClient(t), "--no-defaults", "-S", s.Socket, "-u", "root",
		"--batch", "--skip-column-names", "-e", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb -e %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Status returns the server's global status variable name, e.g. "Aborted_connects". Note that
// MariaDB's readiness check (a greeting read, then a hang-up) counted as one aborted connect.
func (s MariaDBServer) Status(t testing.TB, name string) int {
	t.Helper()
	out := s.Query(t, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '"+strings.ToUpper(name)+"'")
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("status %s = %q, not a number", name, out)
	}
	return n
}

// lookMariaDB finds the server's programs and the client, skipping t without them.
func lookMariaDB(t testing.TB) (mariadbd, installDB, client string) {
	t.Helper()
	return lookSbin(t, "mariadbd"), lookSbin(t, "mariadb-install-db"), lookClient(t)
}

// lookClient finds the mariadb client, skipping t without it.
func lookClient(t testing.TB) string {
	t.Helper()
	return lookSbin(t, "mariadb")
}

// lookSbin finds a program on PATH or in the sbin folders a non-login PATH can lack, skipping
// t when it is nowhere.
func lookSbin(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("no %s: install MariaDB (Debian's mariadb-server and mariadb-client; scripts/deps does)", name)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// greeting reads a MySQL server's greeting at addr and returns its version.
func greeting(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	var head [4]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return "", err
	}
	body := make([]byte, int(head[0])|int(head[1])<<8|int(head[2])<<16)
	if _, err := io.ReadFull(conn, body); err != nil {
		return "", err
	}
	if len(body) < 2 || body[0] != 10 {
		return "", errors.New("no protocol 10 greeting")
	}
	version, _, _ := bytes.Cut(body[1:], []byte{0})
	return string(version), nil
}
