package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/internal/loopback"

	"github.com/rhizome-dev/rhizome/env"
)

// TestEveryEngineHasProbeAndSimulation keeps env's engine table and forward's per-engine code
// in step: an engine added there without a probe or a simulated server fails here.
func TestEveryEngineHasProbeAndSimulation(t *testing.T) {
	for _, name := range env.EngineNames() {
		if probes[name] == nil {
			t.Errorf("engine %s has no probe", name)
		}
		if simulatedServers[name] == nil {
			t.Errorf("engine %s has no simulated server", name)
		}
	}
}

// TestProbesAgainstSimulation runs each engine's probe against its simulated server over a real
// socket, and against the other engines' servers, which must not pass for it.
func TestProbesAgainstSimulation(t *testing.T) {
	want := map[string]string{
		env.MySQL:     "8.0.0-rhizome-simulated",
		env.Postgres:  "PostgreSQL, TLS not offered",
		env.SQLServer: "SQL Server 16.0.1000, encryption not supported",
	}
	for _, server := range env.EngineNames() {
		addr := listen(t, func(c net.Conn) {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			simulatedServers[server](c, 1)
		})
		for _, client := range env.EngineNames() {
			// Some pairs wait for each other to speak first: bound the wait.
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			got, err := ProbeFor(client)(ctx, addr)
			cancel()
			switch {
			case client == server && (err != nil || got != want[server]):
				t.Errorf("%s probe of the simulated %s = %q, %v; want %q", client, server, got, err, want[server])
			case client != server && !errors.Is(err, ErrNoGreeting):
				t.Errorf("%s probe of the simulated %s = %q, %v; want ErrNoGreeting", client, server, got, err)
			}
		}
	}
}

// TestProbesNeedAnAnswer: a server that accepts and says nothing is not ready, and neither is
// one that accepts and closes, which is how kubectl port-forward shows a dead pod side.
func TestProbesNeedAnAnswer(t *testing.T) {
	quiet := make(chan struct{})
	silent := listen(t, func(net.Conn) { <-quiet })
	t.Cleanup(func() { close(quiet) }) // before listen's cleanup waits for the handler
	closing := listen(t, func(net.Conn) {})
	for _, engine := range env.EngineNames() {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		got, err := ProbeFor(engine)(ctx, silent)
		cancel()
		if err == nil {
			t.Errorf("%s probe of a silent server = %q, want an error", engine, got)
		}
		if got, err := ProbeFor(engine)(t.Context(), closing); !errors.Is(err, ErrNoGreeting) || !strings.Contains(err.Error(), "closed before the server spoke") {
			t.Errorf("%s probe of a server that closes = %q, %v; want ErrNoGreeting saying it closed", engine, got, err)
		}
	}
}

func TestPostgresAnswer(t *testing.T) {
	for _, tt := range []struct{ data, want string }{{"S", "TLS offered"}, {"N", "TLS not offered"}} {
		if got, err := readSSLAnswer(strings.NewReader(tt.data)); err != nil || !strings.Contains(got, tt.want) {
			t.Errorf("readSSLAnswer(%q) = %q, %v; want %q", tt.data, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "E\x00\x00\x00\x08", "J\x00\x00\x00\x0a8.0.31"} {
		if got, err := readSSLAnswer(strings.NewReader(bad)); !errors.Is(err, ErrNoGreeting) {
			t.Errorf("readSSLAnswer(%q) = %q, %v; want ErrNoGreeting", bad, got, err)
		}
	}
	if req := appendSSLRequest(nil); !bytes.Equal(req, []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}) || !isSSLRequest(req) {
		t.Errorf("appendSSLRequest() = % x, want 00 00 00 08 04 d2 16 2f", req)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A PRELOGIN reply as SQL Server 2022 (16.0.4135) sends it to a client asking for encryption
// off. No SQL Server runs on this machine, so this was not recorded from one: it is laid out
// by hand from MS-TDS 2.2.6.5 (header, option table, data), independently of
// appendPreloginReply. The options are the ones a server answers: VERSION, ENCRYPTION (off),
// INSTOPT (0: the instance matched), THREADID (empty), MARS (off), FEDAUTHREQUIRED (0).
const sqlServer2022Reply = `
04 01 00 31 00 00 01 00
00 00 1f 00 06
01 00 25 00 01
02 00 26 00 01
03 00 27 00 00
04 00 27 00 01
06 00 28 00 01
ff
10 00 10 27 00 00
00
00
00
00`

func TestSQLServerPrelogin(t *testing.T) {
	got, err := readPreloginReply(bytes.NewReader(unhex(t, sqlServer2022Reply)))
	if err != nil || got != "SQL Server 16.0.4135, encryption off" {
		t.Errorf("readPreloginReply(SQL Server 2022 reply) = %q, %v", got, err)
	}
	// MS-TDS 4.1's example PRELOGIN request: the same option table, as a client sends it.
	example := unhex(t, `12 01 00 2F 00 00 01 00 00 00 1A 00 06 01 00 20 00 01 02 00 21 00 01 03 00 22 00 04 04 00 26 00
		01 FF 09 00 00 00 00 00 01 00 B8 0D 00 00 01`)
	typ, payload, err := readTDSPacket(bytes.NewReader(example))
	if err != nil || typ != tdsPrelogin {
		t.Fatalf("readTDSPacket(MS-TDS example) = %#x, %v", typ, err)
	}
	opts, err := parsePreloginOptions(payload)
	if err != nil || !bytes.Equal(opts[plVersion], []byte{9, 0, 0, 0, 0, 0}) || !bytes.Equal(opts[plEncryption], []byte{1}) ||
		!bytes.Equal(opts[plThreadID], []byte{0xb8, 0x0d, 0, 0}) || !bytes.Equal(opts[plMARS], []byte{1}) {
		t.Errorf("parsePreloginOptions(MS-TDS example) = %v, %v", opts, err)
	}
	if _, err := readPreloginReply(bytes.NewReader(example)); !errors.Is(err, ErrNoGreeting) || !strings.Contains(err.Error(), "packet type 0x12") {
		t.Errorf("readPreloginReply(a client's PRELOGIN) = %v, want ErrNoGreeting naming the type", err)
	}
	if got, err := readPreloginReply(bytes.NewReader(appendPreloginReply(nil, 15, 0, 2000))); err != nil || got != "SQL Server 15.0.2000, encryption not supported" {
		t.Errorf("readPreloginReply(appendPreloginReply(15.0.2000)) = %q, %v", got, err)
	}

	reply := unhex(t, sqlServer2022Reply)
	bad := []struct{ name, data string }{
		{"empty", ""},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{"mysql greeting", string(AppendGreeting(nil, "8.0.31", 1))},
		{"cut short", string(reply[:20])},
		{"no terminator", string(append([]byte{4, 1, 0, 13, 0, 0, 1, 0}, 0, 0, 5, 0, 0))},
		{"offset past the end", string(append([]byte{4, 1, 0, 14, 0, 0, 1, 0}, 0, 0, 6, 0, 6, 0xff))},
		{"no version", string(append([]byte{4, 1, 0, 15, 0, 0, 1, 0}, 1, 0, 6, 0, 1, 0xff, 0))},
		{"not the last packet", string(append([]byte{4, 0}, reply[2:]...))},
	}
	for _, b := range bad {
		if got, err := readPreloginReply(strings.NewReader(b.data)); !errors.Is(err, ErrNoGreeting) {
			t.Errorf("readPreloginReply(%s) = %q, %v; want ErrNoGreeting", b.name, got, err)
		}
	}
}

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
		if _, err := readGreeting(bufio.NewReader(strings.NewReader(b.data))); !errors.Is(err, ErrNoGreeting) {
			t.Errorf("readGreeting(%s) = %v, want ErrNoGreeting", b.name, err)
		}
	}
	refused := "\x16\x00\x00\x00\xff\x6a\x04Host is not allowed"
	if _, err := readGreeting(bufio.NewReader(strings.NewReader(refused))); err == nil || !strings.Contains(err.Error(), "error 1130") {
		t.Errorf("readGreeting(error packet) = %v, want it to report error 1130", err)
	}
}

// listen serves each connection on a loopback port with serve until the test ends.
func listen(t testing.TB, serve func(net.Conn)) string { return loopback.Serve(t, serve) }
