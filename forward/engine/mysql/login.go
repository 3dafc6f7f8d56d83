package mysql

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// errPlugin means the server asked for an auth plugin the door does not speak.
type errPlugin struct{ name string }

func (e errPlugin) Error() string {
	return fmt.Sprintf("mysql: rhizome cannot log in with auth plugin %q", e.name)
}

// errUnexpected means the server sent, during the login, a packet no plugin the door speaks
// sends there (MySQL's second authentication factor, say).
var errUnexpected = errors.New("mysql: the server sent an unexpected packet during the login")

// logIn logs in on server, whose greeting is g, with resp as the handshake response and
// password. It chooses the greeting's plugin (mysql_native_password when the door does not
// speak that one: the server then switches to the user's), fills in resp's plugin and auth
// data, sends it, and answers the server's AuthSwitchRequests and AuthMoreData until the
// server's OK, whose payload it returns. The server's ERR comes back as a *serverError;
// errPlugin and errUnexpected mean the door could not go on; any other error is the
// connection's. server's sequence must be where resp goes (1 after a greeting).
func logIn(server *packetConn, g *greeting, resp *response, password string) ([]byte, error) {
	plugin, scramble := g.plugin, g.scramble
	auth, ok := authData(plugin, scramble, password)
	if !ok {
		plugin = nativePassword
		auth, _ = authData(plugin, scramble, password)
	}
	resp.plugin, resp.auth = plugin, auth
	if err := server.write(resp.appendTo(nil)); err != nil {
		return nil, err
	}
	for {
		p, err := server.read()
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			return nil, errUnexpected
		}
		switch p[0] {
		case packetOK:
			return p, nil
		case packetErr:
			return nil, parseErr(p)
		case packetAuthSwitch:
			name, data, ok := cutNul(p[1:])
			if !ok { // the pre-4.1 switch to mysql_old_password, without a name
				return nil, errPlugin{"mysql_old_password"}
			}
			plugin, scramble = name, bytes.TrimRight(data, "\x00")
			auth, ok := authData(plugin, scramble, password)
			if !ok {
				return nil, errPlugin{plugin}
			}
			if err := server.write(auth); err != nil {
				return nil, err
			}
		case packetMoreData:
			if plugin != cachingSHA2 || len(p) != 2 {
				return nil, errUnexpected
			}
			switch p[1] {
			case sha2FastAuthOK: // the OK follows
			case sha2FullAuth:
				if err := sha2Full(server, scramble, password); err != nil {
					return nil, err
				}
			default:
				return nil, errUnexpected
			}
		default:
			return nil, errUnexpected
		}
	}
}

// sha2Full sends the password for caching_sha2_password's full authentication: as it is over
// TLS or a Unix socket, which the server takes as safe (as MySQL's clients do), else encrypted
// with the server's RSA public key, which it first asks for. The forward's stream to the pod
// is neither, so through the door the server always hands out its key.
func sha2Full(server *packetConn, scramble []byte, password string) error {
	if secureTransport(server.conn) {
		return server.write(append([]byte(password), 0))
	}
	if err := server.write([]byte{sha2RequestKey}); err != nil {
		return err
	}
	p, err := server.read()
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != packetMoreData {
		if len(p) > 0 && p[0] == packetErr {
			return parseErr(p)
		}
		return errUnexpected
	}
	enc, err := encryptPassword(p[1:], scramble, password)
	if err != nil {
		return err
	}
	return server.write(enc)
}

// secureTransport reports whether MySQL counts conn as safe for a password in clear text.
func secureTransport(conn net.Conn) bool {
	switch conn.(type) {
	case *net.UnixConn, *tls.Conn:
		return true
	}
	return false
}
