package env

import "testing"

// TestClientSocket: a --socket given on the command line wins over $RHIZOME_SOCK, which wins
// over the default.
func TestClientSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	const def = "/run/user/7/rhizome/agent.sock"
	tests := []struct {
		name, flag, sock, want string
	}{
		{"default", "", "", def},
		{"RHIZOME_SOCK", "", "/tmp/s/agent.sock", "/tmp/s/agent.sock"},
		{"flag over RHIZOME_SOCK", "/tmp/f.sock", "/tmp/s/agent.sock", "/tmp/f.sock"},
		{"flag alone", "/tmp/f.sock", "", "/tmp/f.sock"},
	}
	for _, tt := range tests {
		t.Setenv(VarSock, tt.sock)
		if got := ClientSocket(tt.flag); got != tt.want {
			t.Errorf("%s: ClientSocket(%q) with RHIZOME_SOCK=%q = %q, want %q", tt.name, tt.flag, tt.sock, got, tt.want)
		}
	}
}
