package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocketDirectoryRefused checks that Start, with the strict checks of the default socket
// directory, refuses a directory that someone else could have prepared, with an error saying
// what is wrong, and leaves no socket there.
func TestSocketDirectoryRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test gives a directory to uid 65534 and must run as root (scripts/test does)")
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // makes dir, the socket's directory
		want    string
	}{
		{"loose mode", func(t *testing.T, dir string) { mkdir(t, dir, 0o755) }, "has mode 0755, want 0700: run chmod 700"},
		{"group writable", func(t *testing.T, dir string) { mkdir(t, dir, 0o770) }, "has mode 0770, want 0700"},
		{"another owner", func(t *testing.T, dir string) {
			mkdir(t, dir, 0o700)
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "belongs to uid 65534, not you (uid 0)"},
		{"symlink to a private directory", func(t *testing.T, dir string) {
			target := dir + ".real"
			mkdir(t, target, 0o700)
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}, "is not a directory"},
		{"a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "creating socket directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(shortDir(t), "rhizome")
			tt.prepare(t, dir)
			socket := filepath.Join(dir, "agent.sock")
			a, err := Start(Config{Socket: socket, StrictDir: true})
			if err == nil {
				a.Close()
				t.Fatalf("Start(%q) = nil error, want one with %q", socket, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start(%q) = %v, want an error with %q", socket, err, tt.want)
			}
			if fi, err := os.Lstat(socket); err == nil {
				t.Errorf("after the refusal, %s exists (mode %v), want no socket", socket, fi.Mode())
			}
		})
	}
}

// TestSocketIsPrivate checks the modes Start gives a new directory and the socket, with a
// permissive umask that would otherwise let others in.
func TestSocketIsPrivate(t *testing.T) {
	dir := filepath.Join(shortDir(t), "run", "rhizome")
	old := umask(0)
	defer umask(old)
	a := startAgentWith(t, func(c *Config) {
		c.Socket = filepath.Join(dir, "agent.sock")
		c.StrictDir = true
	})
	umask(old)
	for path, want := range map[string]os.FileMode{dir: 0o700, a.Socket(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %04o, want %04o", path, got, want)
		}
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}
