package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// checkCaps are the capabilities CheckLogin asks for, of those the server offers: enough to
// log in with a plugin and say goodbye.
const checkCaps = clientLongPassword | clientProtocol41 | clientTransactions |
	clientSecureConnection | clientMultiResults | clientPluginAuth | clientPluginAuthLenenc

// quitWait bounds how long CheckLogin waits for the server to close after COM_QUIT.
const quitWait = time.Second

// CheckLogin logs in on conn as l.User with l's kept password and no database, then sends
// COM_QUIT, so that the server counts neither an aborted connect nor an aborted client: the
// check of a forward with a login, end to end. It returns the server's version. Its time is
// bounded by conn's deadline, which the caller sets, and by l.Password's own. The caller
// closes conn.
func CheckLogin(conn net.Conn, l wire.Login) (string, error) {
	p, err := readFirstPacket(conn)
	if err != nil {
		return "", err
	}
	if p[0] == packetErr {
		return "", fmt.Errorf("%w: %w", wire.ErrNoGreeting, parseErr(p))
	}
	g, err := parseGreeting(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", wire.ErrNoGreeting, err)
	}
	if l.User == "" || l.Password == nil {
		return "", errors.New("mysql: the login names no user or no password")
	}
	password, err := l.Password(context.Background(), false)
	if err != nil {
		return "", fmt.Errorf("mysql: getting the password for %s: %w", l.User, err)
	}
	charset := g.charset
	if charset == 0 {
		charset = 0x21 // utf8_general_ci
	}
	resp := &response{
		caps:      checkCaps&g.caps | clientProtocol41,
		maxPacket: 1 << 24,
		charset:   charset,
		user:      l.User,
	}
	if _, err := logIn(&packetConn{conn: conn, seq: 1}, g, resp, password); err != nil {
		return "", fmt.Errorf("mysql: logging in as %s: %w", l.User, err)
	}
	if err := writePacket(conn, 0, []byte{comQuit}); err != nil {
		return "", fmt.Errorf("mysql: saying goodbye: %w", err)
	}
	// The server closes on COM_QUIT. Waiting for that keeps our close from racing the
	// server's read of it.
	_ = conn.SetReadDeadline(time.Now().Add(quitWait))
	_, _ = io.Copy(io.Discard, conn)
	return g.version, nil
}
