package mysql

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

func TestGreetingRoundTrip(t *testing.T) {
	version, err := readGreeting(bufio.NewReader(bytes.NewReader(AppendGreeting(nil, "8.0.31", 7))))
	if err != nil || version != "8.0.31" {
		t.Errorf("readGreeting(AppendGreeting(8.0.31)) = %q, %v", version, err)
	}
	bad := []struct{ name, data string }{
		{"empty", ""},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{"short", "\x01\x00\x00"},
	}
	for _, b := range bad {
		if _, err := readGreeting(bufio.NewReader(strings.NewReader(b.data))); !errors.Is(err, wire.ErrNoGreeting) {
			t.Errorf("readGreeting(%s) = %v, want wire.ErrNoGreeting", b.name, err)
		}
	}
	refused := "\x16\x00\x00\x00\xff\x6a\x04Host is not allowed"
	if _, err := readGreeting(bufio.NewReader(strings.NewReader(refused))); err == nil || !strings.Contains(err.Error(), "error 1130") {
		t.Errorf("readGreeting(error packet) = %v, want it to report error 1130", err)
	}
}
