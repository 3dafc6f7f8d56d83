package sqlserver

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// TestRefuseLayout checks Refuse's bytes for a TDS 7.1 client (narrower DONE and ERROR
// fields) against a reply laid out by hand from MS-TDS 2.2.7.6 and 2.2.7.10; the real driver
// (refuse_test.go) covers TDS 7.4.
func TestRefuseLayout(t *testing.T) {
	client, door := net.Pipe()
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	done := make(chan error, 1)
	go func() {
		defer door.Close()
		done <- Refuse(door, wire.Refusal{Message: "no"})
	}()
	// MS-TDS 4.1's PRELOGIN with its ENCRYPTION changed to off, then a LOGIN7 header and its
	// first fields: Length and TDSVersion 7.1 (0x71000001, little-endian).
	hello := unhex(t, `12 01 00 2F 00 00 01 00 00 00 1A 00 06 01 00 20 00 01 02 00 21 00 01 03 00 22 00 04 04 00 26 00
		01 FF 09 00 00 00 00 00 00 00 B8 0D 00 00 01`)
	if _, err := client.Write(hello); err != nil {
		t.Fatal(err)
	}
	if _, err := readPreloginReply(client); err != nil {
		t.Fatalf("the PRELOGIN reply: %v", err)
	}
	if _, err := client.Write(unhex(t, `10 01 00 10 00 00 01 00 08 00 00 00 01 00 00 71`)); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(client)
	want := unhex(t, `
		04 01 00 32 00 00 01 00
		AA 1E 00  50 C3 00 00  01  10  02 00 6E 00 6F 00
		07 72 00 68 00 69 00 7A 00 6F 00 6D 00 65 00  00  01 00
		FD 02 00 00 00 00 00 00 00`)
	if !bytes.Equal(got, want) {
		t.Errorf("Refuse's reply to a TDS 7.1 LOGIN7 =\n% x\nwant\n% x", got, want)
	}
	if err := <-done; err != nil {
		t.Errorf("Refuse = %v", err)
	}
}
