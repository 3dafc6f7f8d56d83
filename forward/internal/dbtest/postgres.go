package dbtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PostgresMethods are the pg_hba.conf methods that check a password: Postgres makes one user
// for each.
var PostgresMethods = []string{"scram-sha-256", "md5", "password"}

// PostgresServer is a fresh PostgreSQL server on a loopback port, for one test.
type PostgresServer struct {
	Addr      string // 127.0.0.1:port
	Superuser string // trusted from loopback: no password
	// Users has one user per method of PostgresMethods, each with a password of its own and
	// logging in with it: an md5 user's password is stored as MD5, the others' as SCRAM.
	Users []PostgresUser
	// LogPath is the server's log: connections, disconnections and DEBUG1 lines, so that a
	// client closing without a goodbye shows.
	LogPath string
}

// PostgresUser is a user of a PostgresServer.
type PostgresUser struct {
	Name, Password string
	Method         string // the pg_hba.conf method it logs in with
}

// Port is the server's port, as psql's port= takes it.
func (s *PostgresServer) Port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// User returns the user that logs in with method.
func (s *PostgresServer) User(method string) PostgresUser {
	for _, u := range s.Users {
		if u.Method == method {
			return u
		}
	}
	panic("dbtest: no user logs in with " + method)
}

// Log returns what the server has logged so far.
func (s *PostgresServer) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Postgres starts a fresh PostgreSQL server on a free 127.0.0.1 port with a trusted
// superuser and one user per method of PostgresMethods, and stops it when the test ends. It
// skips the test when PostgreSQL's programs (or, as root, the postgres user it must run as)
// are not there.
func Postgres(t testing.TB) *PostgresServer {
	t.Helper()
	initdb, err1 := PostgresTool("initdb")
	postgres, err2 := PostgresTool("postgres")
	psql, err3 := PostgresTool("psql")
	cred, err4 := postgresCredential()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Skipf("no PostgreSQL server to test against: %v", err)
	}
	dir, err := os.MkdirTemp("", "dbtest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		// The server's user must own its data and reach it.
		if err := os.Chown(data, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	s := &PostgresServer{Superuser: "rz_super", LogPath: filepath.Join(dir, "postgres.log")}
	for _, m := range PostgresMethods {
		s.Users = append(s.Users, PostgresUser{Name: "rz_" + strings.ReplaceAll(m, "-", "_"), Password: randomPassword(t), Method: m})
	}

	cmd := exec.Command(initdb, "--pgdata="+data, "--username="+s.Superuser, "--auth=trust",
		"--encoding=UTF8", "--no-sync", "--no-instructions")
	cmd.Dir, cmd.SysProcAttr = data, &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	hba := "host all " + s.Superuser + " 127.0.0.1/32 trust\n"
	for _, u := range s.Users {
		hba += "host all " + u.Name + " 127.0.0.1/32 " + u.Method + "\n"
	}
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	server := exec.Command(postgres, "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-k", "", // no Unix socket: clients come over TCP, as through the door
		"-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=20",
		"-c", "log_connections=on", "-c", "log_disconnections=on", "-c", "log_min_messages=debug1")
	server.Dir, server.Stdout, server.Stderr = data, logFile, logFile
	server.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := server.Start(); err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = server.Wait(); close(exited) }() // the one owner of Wait
	t.Cleanup(func() { stopPostgres(server.Process.Pid, exited) })

	if err := s.waitReady(psql, exited); err != nil {
		t.Fatalf("postgres on %s: %v\n%s", s.Addr, err, s.Log(t))
	}
	// Each password is stored as its method needs: md5 can only check an MD5 hash. The SQL
	// goes through stdin, keeping the passwords out of psql's argv.
	var sql strings.Builder
	for _, u := range s.Users {
		enc := "scram-sha-256"
		if u.Method == "md5" {
			enc = "md5"
		}
		fmt.Fprintf(&sql, "SET password_encryption = '%s';\nCREATE ROLE %s LOGIN PASSWORD '%s';\n", enc, u.Name, u.Password)
	}
	if out, err := s.psqlSuper(psql, sql.String()); err != nil {
		t.Fatalf("making the users: %v\n%s", err, out)
	}
	return s
}

// waitReady waits until the server answers a query as the superuser: a server still
// starting accepts and then refuses.
func (s *PostgresServer) waitReady(psql string, exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := s.psqlSuper(psql, "SELECT 1")
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("postgres exited")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within a minute: %v: %s", err, out)
		}
	}
}

// psqlSuper runs the SQL of stdin with psql as the superuser.
func (s *PostgresServer) psqlSuper(psql, stdin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-X", "-w", "-q", "-v", "ON_ERROR_STOP=1",
		"host=127.0.0.1 port="+s.Port()+" user="+s.Superuser+" dbname=postgres connect_timeout=2")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stopPostgres stops the server's process group fast (SIGINT: roll back and close the
// sessions), then kills it if it has not exited within ten seconds.
func stopPostgres(pid int, exited <-chan struct{}) {
	_ = syscall.Kill(-pid, syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// PostgresTool finds a PostgreSQL program on PATH or where Debian's packages put the
// server's, /usr/lib/postgresql/VERSION/bin (the newest version there).
func PostgresTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	version := func(path string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
		return v
	}
	slices.SortFunc(found, func(a, b string) int { return cmp.Compare(version(a), version(b)) })
	if len(found) > 0 {
		return found[len(found)-1], nil
	}
	return "", fmt.Errorf("no %s (PostgreSQL from Debian: postgresql)", name)
}

// postgresCredential is who runs the server: nil (this process's user) unless that is root,
// which PostgreSQL refuses to run as: then the postgres user Debian's package makes.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL will not run as root, and there is no postgres user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("the postgres user has uid %q and gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// randomPassword is a password of 24 hex digits: nothing to quote in SQL.
func randomPassword(t testing.TB) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
