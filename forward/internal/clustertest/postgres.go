package clustertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Postgres is how to reach the cluster's PostgreSQL server directly, without the pod. Every
// loopback connection is trusted, so no password is needed.
type Postgres struct {
	Addr     string // host:port on loopback
	User     string // the cluster's superuser
	Database string
	// App and AppPassword are a role that must log in with its password (scram-sha-256 over
	// TCP), as a Cloud SQL user does; every other loopback connection is trusted.
	App, AppPassword string
}

// Port is the server's port, as psql -p takes it.
func (p Postgres) Port() string {
	_, port, _ := net.SplitHostPort(p.Addr)
	return port
}

// startPostgres makes a fresh data folder in dir and runs postgres on 127.0.0.1:port with pg's
// superuser, waiting until it answers a query. PostgreSQL refuses to run as root, so as root
// it runs as the postgres user Debian's package makes. The caller owns the returned child.
func startPostgres(ctx context.Context, sp *spawner, t tools, dir string, port int, pg Postgres) (*child, error) {
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "postgres")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, fmt.Errorf("making postgres data folder: %w", err)
	}
	if cred != nil {
		// The server's user must own its data and reach it through the work folder.
		if err := os.Chown(data, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("making postgres data folder: %w", err)
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			return nil, fmt.Errorf("making postgres data folder: %w", err)
		}
	}
	initdb := exec.CommandContext(ctx, t.initdb, "--pgdata="+data, "--username="+pg.User,
		"--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions")
	initdb.Dir, initdb.SysProcAttr = data, &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := requirePassword(data, pg.App); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	cmd := exec.Command(t.postgres, "-D", data,
		"-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-k", "", // no Unix socket: clients come over TCP, through the pod
		"-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=30",
	)
	cmd.Dir, cmd.SysProcAttr = data, &syscall.SysProcAttr{Credential: cred}
	c, err := sp.start("postgres", logPath, cmd)
	if err != nil {
		return nil, err
	}
	// A query, not only a connection: a server still starting up accepts and then refuses.
	if err := waitChild(ctx, c, logPath, func() error { return selectOnePostgres(ctx, t.psql, pg) }); err != nil {
		c.stop(0)
		return nil, err
	}
	if err := runPostgres(ctx, t.psql, pg, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", pg.App, pg.AppPassword)); err != nil {
		c.stop(0)
		return nil, err
	}
	return c, nil
}

// requirePassword puts a line first in data's pg_hba.conf that makes role log in over TCP
// with its password (scram-sha-256), ahead of initdb's trust for everyone.
func requirePassword(data, role string) error {
	hba := filepath.Join(data, "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		return fmt.Errorf("reading pg_hba.conf: %w", err)
	}
	line := fmt.Sprintf("host all %s 127.0.0.1/32 scram-sha-256\n", role)
	return os.WriteFile(hba, append([]byte(line), old...), 0o600)
}

// runPostgres runs one statement with psql as pg's superuser.
func runPostgres(ctx context.Context, psql string, pg Postgres, sql string) error {
	cmd := exec.CommandContext(ctx, psql, "-X", "-w", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", pg.Port(),
		"-U", pg.User, "-d", pg.Database, "-c", sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("psql %q: %w: %s", sql, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// postgresCredential is who runs the server: nil (this process's user) unless that is root.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("%w (PostgreSQL will not run as root, and there is no postgres user: %v)", ErrToolsMissing, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user has uid %q and gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// selectOnePostgres runs SELECT 1 with psql against pg.
func selectOnePostgres(ctx context.Context, psql string, pg Postgres) error {
	cmd := exec.CommandContext(ctx, psql, "-X", "-w", "-At", "-h", "127.0.0.1", "-p", pg.Port(),
		"-U", pg.User, "-d", pg.Database, "-c", "SELECT 1")
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if got := strings.TrimSpace(string(out)); got != "1" {
		return fmt.Errorf("psql SELECT 1 printed %q", got)
	}
	return nil
}
