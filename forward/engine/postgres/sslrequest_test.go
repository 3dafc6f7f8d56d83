package postgres

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

func TestPostgresAnswer(t *testing.T) {
	for _, tt := range []struct{ data, want string }{{"S", "TLS offered"}, {"N", "TLS not offered"}} {
		if got, err := readSSLAnswer(strings.NewReader(tt.data)); err != nil || !strings.Contains(got, tt.want) {
			t.Errorf("readSSLAnswer(%q) = %q, %v; want %q", tt.data, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "E\x00\x00\x00\x08", "J\x00\x00\x00\x0a8.0.31"} {
		if got, err := readSSLAnswer(strings.NewReader(bad)); !errors.Is(err, wire.ErrNoGreeting) {
			t.Errorf("readSSLAnswer(%q) = %q, %v; want wire.ErrNoGreeting", bad, got, err)
		}
	}
	if req := appendSSLRequest(nil); !bytes.Equal(req, []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}) || !isSSLRequest(req) {
		t.Errorf("appendSSLRequest() = % x, want 00 00 00 08 04 d2 16 2f", req)
	}
}
