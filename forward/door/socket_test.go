package door

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/env"
)

func lookupEngine(t testing.TB, name string) env.Engine {
	t.Helper()
	e, err := env.LookupEngine(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// staleSocket leaves a socket file at path with no one listening, as a killed agent does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

func TestListenUnixWhereTheEngineLooks(t *testing.T) {
	tests := []struct {
		engine, rel string
		ownDir      bool
	}{
		{env.MySQL, "na-prod-ledger.sock", false},
		{env.Postgres, "na-prod-ledger/.s.PGSQL.45432", true},
		{env.SQLServer, "na-prod-ledger.sock", false},
	}
	for _, tt := range tests {
		dir := filepath.Join(shortDir(t), "forwards")
		l, path, err := listenUnix(dir, lookupEngine(t, tt.engine), "na-prod/ledger", "key", 45432)
		if err != nil {
			t.Fatalf("%s: listenUnix = %v", tt.engine, err)
		}
		if want := filepath.Join(dir, tt.rel); path != want {
			t.Errorf("%s: socket = %s, want %s", tt.engine, path, want)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: socket mode = %v, %v; want 0600", tt.engine, fi.Mode(), err)
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: directory mode = %v, %v; want 0700", tt.engine, fi.Mode(), err)
		}
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Errorf("%s: dial %s: %v", tt.engine, path, err)
		} else {
			c.Close()
		}
		l.Close()
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: the socket is still there after Close: %v", tt.engine, err)
		}
		_, err = os.Stat(filepath.Dir(path))
		if gone := os.IsNotExist(err); gone != tt.ownDir {
			t.Errorf("%s: after Close the socket's directory gone = %v (%v), want %v", tt.engine, gone, err, tt.ownDir)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: the forwards' directory went with the socket: %v", tt.engine, err)
		}
	}
}

func TestListenUnixHashesLongOrTakenNames(t *testing.T) {
	for _, engine := range env.EngineNames() {
		e := lookupEngine(t, engine)
		dir := filepath.Join(shortDir(t), "forwards")
		first, path1, err := listenUnix(dir, e, "na-prod/bookkeeper", "key-1", 3306)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		if want := e.SocketPath(dir, "na-prod-bookkeeper", 3306); path1 != want {
			t.Errorf("%s: socket = %s, want %s", engine, path1, want)
		}
		// Another forward of the same name, on another port, as when the config changed.
		second, path2, err := listenUnix(dir, e, "na-prod/bookkeeper", "key-2", 3307)
		if err != nil {
			t.Fatal(err)
		}
		if want := e.SocketPath(dir, "f-"+ShortHash("key-2"), 3307); path2 != want {
			t.Errorf("%s: second forward of the same name got %s, want %s", engine, path2, want)
		}
		second.Close()
		if _, err := os.Stat(path1); err != nil {
			t.Errorf("%s: closing the second forward's socket took the first's: %v", engine, err)
		}
		third, path3, err := listenUnix(dir, e, strings.Repeat("long", 40), "key-3", 3308)
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		if want := e.SocketPath(dir, "f-"+ShortHash("key-3"), 3308); path3 != want || len(path3) > MaxSocketPath {
			t.Errorf("%s: long name gave %s (%d bytes), want %s", engine, path3, len(path3), want)
		}
		fourth, path4, err := listenUnix(dir, e, "..", "key-4", 3309)
		if err != nil {
			t.Fatal(err)
		}
		defer fourth.Close()
		if want := e.SocketPath(dir, "f-"+ShortHash("key-4"), 3309); path4 != want {
			t.Errorf("%s: a forward named .. got %s, want %s", engine, path4, want)
		}
	}
}

func TestListenUnixRefusesAnUnsafeDirectory(t *testing.T) {
	for _, engine := range env.EngineNames() {
		e := lookupEngine(t, engine)
		base := shortSocketPath(t)
		if err := os.Mkdir(base, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, _, err := listenUnix(base, e, "x", "id", 5432); err == nil || !strings.Contains(err.Error(), "open to other users (mode 0755)") {
			t.Errorf("%s: listenUnix in a 0755 directory = %v, want it refused", engine, err)
		}
		link := base + "-link"
		if err := os.Symlink(base, link); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(link)
		if _, _, err := listenUnix(link, e, "x", "id", 5432); err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Errorf("%s: listenUnix in a symlink = %v, want it refused", engine, err)
		}
		long := filepath.Join(base, strings.Repeat("d", 100))
		if _, _, err := listenUnix(long, e, "x", "id", 5432); err == nil || !strings.Contains(err.Error(), "more than the 103 a Unix socket may have") {
			t.Errorf("%s: listenUnix with a long path = %v, want a clear error", engine, err)
		}
	}
}

// TestListenUnixPostgresPathLength: PostgreSQL's socket name is longer than NAME.sock, so a
// directory can fit MySQL's socket and not PostgreSQL's; the error says so.
func TestListenUnixPostgresPathLength(t *testing.T) {
	base := shortDir(t)
	// dir + "/f-" + 12 hex + ".sock" fits, dir + "/f-" + 12 hex + "/.s.PGSQL.5432" does not.
	dir := filepath.Join(base, strings.Repeat("d", MaxSocketPath-len(base)-len("/f-123456789012.sock")-1))
	mysql, path, err := listenUnix(dir, lookupEngine(t, env.MySQL), strings.Repeat("n", 40), "id", 5432)
	if err != nil {
		t.Fatalf("mysql socket in a %d-byte directory: %v", len(dir), err)
	}
	mysql.Close()
	if len(path) > MaxSocketPath {
		t.Errorf("mysql socket %s is %d bytes", path, len(path))
	}
	_, _, err = listenUnix(dir, lookupEngine(t, env.Postgres), strings.Repeat("n", 40), "id", 5432)
	if err == nil || !strings.Contains(err.Error(), "/.s.PGSQL.5432 is") || !strings.Contains(err.Error(), "set XDG_RUNTIME_DIR to a shorter directory") {
		t.Errorf("postgres socket in a %d-byte directory = %v, want too long", len(dir), err)
	}
}

func TestListenUnixTakesOverAnEmptyLeftoverDirectory(t *testing.T) {
	pg := lookupEngine(t, env.Postgres)
	dir := filepath.Join(shortDir(t), "forwards")
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	l, path, err := listenUnix(dir, pg, "empty", "id-1", 5432)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if want := pg.SocketPath(dir, "empty", 5432); path != want {
		t.Errorf("socket = %s, want %s (the leftover empty directory taken over)", path, want)
	}
	if err := os.Mkdir(filepath.Join(dir, "used"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "used", "note"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l2, path2, err := listenUnix(dir, pg, "used", "id-2", 5433)
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if want := pg.SocketPath(dir, "f-"+ShortHash("id-2"), 5433); path2 != want {
		t.Errorf("socket = %s, want %s (a directory with something in it is not ours to take)", path2, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "used", "note")); err != nil {
		t.Errorf("the other directory's file: %v", err)
	}
}

func TestRemoveStaleSocketsCleansForwardDirectories(t *testing.T) {
	dir := filepath.Join(shortDir(t), "forwards")
	for _, d := range []string{dir, filepath.Join(dir, "pg"), filepath.Join(dir, "other")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	staleSocket(t, filepath.Join(dir, "my.sock"))
	staleSocket(t, filepath.Join(dir, "pg", ".s.PGSQL.5432"))
	staleSocket(t, filepath.Join(dir, "other", ".s.PGSQL.5433"))
	for _, f := range []string{filepath.Join(dir, "other", "note"), filepath.Join(dir, "keep")} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	RemoveStaleSockets(dir)
	for _, gone := range []string{"my.sock", "pg", "other/.s.PGSQL.5433"} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s is still there after RemoveStaleSockets: %v", gone, err)
		}
	}
	for _, kept := range []string{"keep", "other/note"} {
		if _, err := os.Lstat(filepath.Join(dir, kept)); err != nil {
			t.Errorf("RemoveStaleSockets removed %s, which is no socket: %v", kept, err)
		}
	}
	// The next forward of that name gets its usual place again.
	pg := lookupEngine(t, env.Postgres)
	l, path, err := listenUnix(dir, pg, "pg", "id", 5432)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if want := pg.SocketPath(dir, "pg", 5432); path != want {
		t.Errorf("socket after the clean-up = %s, want %s", path, want)
	}
}

// TestFrontDoorPostgresSocket: a client of the PostgreSQL socket, found as psql finds it
// (directory and port), is relayed to the back end; the door's close takes the directory too.
func TestFrontDoorPostgresSocket(t *testing.T) {
	back := echoServer(t)
	d, _ := testDoorOf(t, 10*time.Second, env.Postgres)
	d.Up(tcpBackend(back))
	host := lookupEngine(t, env.Postgres).SocketHost(d.UnixPath())
	c, err := net.Dial("unix", filepath.Join(host, fmt.Sprintf(".s.PGSQL.%d", d.Port())))
	if err != nil {
		t.Fatalf("dial the socket in %s for port %d: %v", host, d.Port(), err)
	}
	defer c.Close()
	if got, err := roundTrip(c, "hello"); err != nil || got != "echo: hello\n" {
		t.Errorf("through the socket: %q, %v; want the echo", got, err)
	}
	d.Close("test over")
	if _, err := os.Stat(host); !os.IsNotExist(err) {
		t.Errorf("the socket's directory %s is still there after close: %v", host, err)
	}
}
