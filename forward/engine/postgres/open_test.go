package postgres_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/postgres"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/engine/wire/wiretest"
	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// openOnce runs Open on one loopback connection whose client sends startup, with a server
// that serve plays, and returns what the client read until Open returned and Open's error.
func openOnce(t *testing.T, ctx context.Context, serve func(net.Conn), l wire.Login, startup []byte) (string, error) {
	t.Helper()
	serverAddr := loopback.Serve(t, serve)
	errc := make(chan error, 1)
	doorAddr := loopback.Serve(t, func(c net.Conn) {
		server, err := postgres.Open(ctx, c, wiretest.DialTo("tcp", serverAddr), l)
		if err == nil {
			server.Close()
		}
		errc <- err
	})
	c := dialClient(t, doorAddr)
	if _, err := c.Write(startup); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	got, _ := io.ReadAll(c)
	return string(got), err
}

// readStartup reads a fake server's startup.
func readStartup(c net.Conn) {
	var n [4]byte
	if _, err := io.ReadFull(c, n[:]); err == nil {
		_, _ = io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(n[:])-4))
	}
}

func TestOpenWhenTheServerClosesAtOnce(t *testing.T) {
	pw := &wiretest.Passwords{Kept: "x"}
	got, err := openOnce(t, t.Context(), func(c net.Conn) { readStartup(c) }, pw.Login("app", passwordCommand), startupPacket(3<<16, "user", "app"))
	if !errors.Is(err, wire.ErrNoGreeting) || !strings.Contains(got, "closed the connection before it answered") {
		t.Errorf("Open against a server that closes = %v; the client read %q", err, got)
	}
}

// TestOpenHandsOverMethodsItDoesNotSpeak: a request for GSSAPI goes to the client, which
// sent the same startup and may answer it.
func TestOpenHandsOverMethodsItDoesNotSpeak(t *testing.T) {
	gss := []byte{'R', 0, 0, 0, 8, 0, 0, 0, 7}
	pw := &wiretest.Passwords{Kept: "x"}
	got, err := openOnce(t, t.Context(), func(c net.Conn) { readStartup(c); _, _ = c.Write(gss) }, pw.Login("app", passwordCommand), startupPacket(3<<16, "user", "app"))
	if err != nil || got != string(gss) || len(pw.Calls()) != 0 {
		t.Errorf("Open against a server asking for GSSAPI = %v, client read %q, Password calls %v", err, got, pw.Calls())
	}
}

func TestOpenEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	pw := &wiretest.Passwords{Kept: "x"}
	_, err := openOnce(t, ctx, func(c net.Conn) { readStartup(c); _, _ = io.Copy(io.Discard, c) }, pw.Login("app", passwordCommand), startupPacket(3<<16, "user", "app"))
	if err == nil {
		t.Error("Open against a silent server with a context that ends = nil error")
	}
}
