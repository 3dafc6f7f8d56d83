package safesocket

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCheckSocket makes each kind of socket directory for real; the ones another user owns
// need root (scripts/test runs the tests as root).
func TestCheckSocket(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("gives files to uid 65534: needs root (scripts/test runs as root)")
	}
	const other = 65534
	tests := []struct {
		name    string
		make    func(t *testing.T, dir string) string // returns the socket path to check
		refused string                                // "" when the path is fine
	}{
		{"private directory", func(t *testing.T, d string) string { return mkdir(t, d, "p", 0o700, -1) + "/s" }, ""},
		{"directory others may read", func(t *testing.T, d string) string { return mkdir(t, d, "r", 0o755, -1) + "/s" }, ""},
		{"no directory yet", func(t *testing.T, d string) string { return d + "/missing/s" }, ""},
		{"directory others may write", func(t *testing.T, d string) string { return mkdir(t, d, "w", 0o777, -1) + "/s" }, "others may write in it"},
		{"another user's directory", func(t *testing.T, d string) string { return mkdir(t, d, "o", 0o755, other) + "/s" }, "belongs to uid 65534, not you"},
		{"a symlink to a directory of ours", func(t *testing.T, d string) string {
			target := mkdir(t, d, "target", 0o700, -1)
			if err := os.Symlink(target, d+"/link"); err != nil {
				t.Fatal(err)
			}
			return d + "/link/s"
		}, "is a symlink"},
		{"our socket in a sticky directory", func(t *testing.T, d string) string {
			return touch(t, mkdir(t, d, "sticky", 0o777|os.ModeSticky, 0)+"/s", -1)
		}, ""},
		{"another user's socket in a sticky directory", func(t *testing.T, d string) string {
			return touch(t, mkdir(t, d, "sticky2", 0o777|os.ModeSticky, 0)+"/s", other)
		}, "belongs to uid 65534, not you (uid 0), in the shared directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t, t.TempDir())
			err := CheckSocket(path)
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("CheckSocket(%q) = %v, want nil", path, err)
			case tt.refused != "" && (!errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.refused)):
				t.Errorf("CheckSocket(%q) = %v, want ErrUnsafe saying %q", path, err, tt.refused)
			}
		})
	}
}

// TestCheckPath: what cannot be an agent's socket says what it is instead.
func TestCheckPath(t *testing.T) {
	dir := t.TempDir()
	file := touch(t, dir+"/file", -1)
	tests := []struct{ name, path, want string }{
		{"a regular file", file, "is a regular file, not a socket"},
		{"a directory", dir, "is a directory, not a socket"},
		{"too long", "/tmp/" + strings.Repeat("x", MaxPath), "Unix sockets allow fewer than 104"},
		{"not there yet", dir + "/none.sock", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPath(tt.path)
			if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckPath(%q) = %v, want %q", tt.path, err, tt.want)
			}
		})
	}
}

func mkdir(t *testing.T, parent, name string, mode os.FileMode, uid int) string {
	t.Helper()
	d := filepath.Join(parent, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func touch(t *testing.T, path string, uid int) string {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := syscall.Chown(path, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
