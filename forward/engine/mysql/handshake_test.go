package mysql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// TestGreetingForClient: the simulated greeting parses, and the door's copy of a greeting that
// offers TLS offers it no more, with every other byte as the server sent it.
func TestGreetingForClient(t *testing.T) {
	raw := AppendGreeting(nil, "8.0.31", 7)[4:]
	g, err := parseGreeting(raw)
	if err != nil || g.version != "8.0.31" || g.plugin != nativePassword || string(g.scramble) != "rhizome1simulated123" {
		t.Fatalf("parseGreeting(AppendGreeting) = %+v, %v", g, err)
	}
	withSSL := bytes.Clone(raw)
	binary.LittleEndian.PutUint16(withSSL[g.capsAt:], uint16(g.caps)|clientSSL)
	g, _ = parseGreeting(withSSL)
	if g.caps&clientSSL == 0 {
		t.Fatal("parseGreeting lost CLIENT_SSL")
	}
	if got := g.forClient(); !bytes.Equal(got, raw) {
		t.Errorf("forClient() = %x, want %x (the greeting without CLIENT_SSL)", got, raw)
	}
}

// TestResponseRoundTrip: a response rebuilt from its fields is the response sent, in both
// encodings of the auth data, with and without database and attributes.
func TestResponseRoundTrip(t *testing.T) {
	var base uint32 = clientProtocol41 | clientSecureConnection | clientPluginAuth
	tests := []struct {
		name string
		r    response
	}{
		{"minimal", response{caps: base, user: "alice", auth: []byte("0123456789abcdefghij"), plugin: nativePassword}},
		{"empty auth", response{caps: base, user: "alice", plugin: nativePassword}},
		{"lenenc, db, attrs", response{caps: base | clientPluginAuthLenenc | clientConnectWithDB | clientConnectAttrs,
			user: "bob", auth: bytes.Repeat([]byte{0}, 300), database: "app", plugin: cachingSHA2,
			attrs: []byte("\x0a\x04_pid\x041234")}},
		{"zstd level after attrs", response{caps: base | clientConnectAttrs, user: "c", plugin: clearPassword,
			attrs: []byte{0}, rest: []byte{3}}},
	}
	for _, tc := range tests {
		tc.r.maxPacket, tc.r.charset = 1<<24, 45
		raw := tc.r.appendTo(nil)
		got, err := parseResponse(raw)
		if err != nil {
			t.Errorf("parseResponse(%s) = %v", tc.name, err)
			continue
		}
		if again := got.appendTo(nil); !bytes.Equal(again, raw) {
			t.Errorf("parseResponse(%s).appendTo = %x, want %x", tc.name, again, raw)
		}
		if got.user != tc.r.user || !bytes.Equal(got.auth, tc.r.auth) || got.database != tc.r.database || got.plugin != tc.r.plugin {
			t.Errorf("parseResponse(%s) = %+v, want %+v", tc.name, got, tc.r)
		}
	}
	bad := []struct{ name, data string }{
		{"short", "\x00\x02"},
		{"pre-4.1", string(make([]byte, 40))},
		{"no user end", "\x00\x82\x08\x00" + string(make([]byte, 28)) + "alice"},
		{"auth cut short", "\x00\x82\x08\x00" + string(make([]byte, 28)) + "alice\x00\x14abc"},
	}
	for _, b := range bad {
		if _, err := parseResponse([]byte(b.data)); !errors.Is(err, errMalformed) {
			t.Errorf("parseResponse(%s) = %v, want errMalformed", b.name, err)
		}
	}
}
