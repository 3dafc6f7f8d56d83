package sqlserver

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/forward/engine/mysql"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

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
	if _, err := readPreloginReply(bytes.NewReader(example)); !errors.Is(err, wire.ErrNoGreeting) || !strings.Contains(err.Error(), "packet type 0x12") {
		t.Errorf("readPreloginReply(a client's PRELOGIN) = %v, want wire.ErrNoGreeting naming the type", err)
	}
	if got, err := readPreloginReply(bytes.NewReader(appendPreloginReply(nil, 15, 0, 2000))); err != nil || got != "SQL Server 15.0.2000, encryption not supported" {
		t.Errorf("readPreloginReply(appendPreloginReply(15.0.2000)) = %q, %v", got, err)
	}

	reply := unhex(t, sqlServer2022Reply)
	bad := []struct{ name, data string }{
		{"empty", ""},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n"},
		{"mysql greeting", string(mysql.AppendGreeting(nil, "8.0.31", 1))},
		{"cut short", string(reply[:20])},
		{"no terminator", string(append([]byte{4, 1, 0, 13, 0, 0, 1, 0}, 0, 0, 5, 0, 0))},
		{"offset past the end", string(append([]byte{4, 1, 0, 14, 0, 0, 1, 0}, 0, 0, 6, 0, 6, 0xff))},
		{"no version", string(append([]byte{4, 1, 0, 15, 0, 0, 1, 0}, 1, 0, 6, 0, 1, 0xff, 0))},
		{"not the last packet", string(append([]byte{4, 0}, reply[2:]...))},
	}
	for _, b := range bad {
		if got, err := readPreloginReply(strings.NewReader(b.data)); !errors.Is(err, wire.ErrNoGreeting) {
			t.Errorf("readPreloginReply(%s) = %q, %v; want wire.ErrNoGreeting", b.name, got, err)
		}
	}
}
