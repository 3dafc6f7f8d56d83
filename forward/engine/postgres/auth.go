package postgres

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Authentication request codes: the int32 at the start of an Authentication message.
const (
	authOk           = 0
	authCleartext    = 3
	authMD5          = 5
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

// authMethods names the requests the door does not answer, for errors.
var authMethods = map[uint32]string{2: "Kerberos V5", 7: "GSSAPI", 8: "GSSAPI", 9: "SSPI", authSASL: "SASL"}

// unsupportedAuth is a request for a method the door does not answer, sent before the door
// answered anything: the client, which sent the same startup, may answer it itself.
type unsupportedAuth struct {
	request message
	method  string
}

func (e *unsupportedAuth) Error() string {
	return fmt.Sprintf("the server asks for %s authentication, which rhizome does not answer", e.method)
}

// passwordError is the error of the login's Password: its text is the command's words.
type passwordError struct{ err error }

func (e *passwordError) Error() string { return e.err.Error() }
func (e *passwordError) Unwrap() error { return e.err }

// authenticator answers one server's authentication requests for user, after the startup.
type authenticator struct {
	conn io.ReadWriter
	user string
	// password is called at most once, when the server first asks for it.
	password func() (string, error)
	// early gets what the server may send before AuthenticationOk besides the requests: a
	// NegotiateProtocolVersion and NoticeResponses. nil drops them.
	early func(message) error

	pw       *string // the password, once asked for
	answered bool    // whether an answer went to the server
}

// run reads the server's requests and answers them until AuthenticationOk, which it reads
// and nothing after it. An error is a *serverError (the server's ErrorResponse), an
// *unsupportedAuth, a *passwordError, one wrapping wire.ErrNoGreeting if the server closed
// without a word, or another failure of the connection or the protocol.
func (a *authenticator) run() error {
	var sc *scram
	verified := false
	for spoke := false; ; spoke = true {
		m, err := readMessage(a.conn)
		if err != nil {
			if !spoke && wire.ClosedEarly(err) {
				return wire.ErrSilent
			}
			return fmt.Errorf("reading the server's authentication: %w", err)
		}
		switch m.typ {
		case msgAuthentication:
		case msgErrorResponse:
			fs, err := parseFields(m.body)
			if err != nil {
				return fmt.Errorf("the server's error: %w", err)
			}
			return &serverError{fs}
		case msgNegotiateProtocol, msgNoticeResponse:
			if a.early != nil {
				if err := a.early(m); err != nil {
					return err
				}
			}
			continue
		default:
			return fmt.Errorf("the server sent a message of type %q before authentication ended", m.typ)
		}
		if len(m.body) < 4 {
			return errors.New("the server sent an authentication message without a request")
		}
		code, data := binary.BigEndian.Uint32(m.body), m.body[4:]
		var answer []byte // what goes back to the server, if anything
		switch {
		case code == authOk:
			if sc != nil && !verified {
				return errors.New("SCRAM: the server ended the exchange without proving itself")
			}
			return nil
		case code == authCleartext:
			pw, err := a.getPassword()
			if err != nil {
				return err
			}
			answer = append([]byte(pw), 0)
		case code == authMD5 && len(data) == 4:
			pw, err := a.getPassword()
			if err != nil {
				return err
			}
			answer = append([]byte(md5Password(a.user, pw, data)), 0)
		case code == authSASL && offers(data, scramMechanism):
			pw, err := a.getPassword()
			if err != nil {
				return err
			}
			if sc, err = newSCRAM("", pw); err != nil {
				return err
			}
			first := sc.first()
			answer = append([]byte(scramMechanism), 0)
			answer = binary.BigEndian.AppendUint32(answer, uint32(len(first)))
			answer = append(answer, first...)
		case code == authSASLContinue && sc != nil && !verified:
			final, err := sc.final(string(data))
			if err != nil {
				return err
			}
			answer = []byte(final)
		case code == authSASLFinal && sc != nil && !verified:
			if err := sc.verify(string(data)); err != nil {
				return err
			}
			verified = true
		case !a.answered:
			method := authMethods[code]
			if method == "" {
				method = fmt.Sprintf("method %d", code)
			}
			return &unsupportedAuth{request: m, method: method}
		default:
			return fmt.Errorf("the server sent authentication request %d out of turn", code)
		}
		if answer != nil {
			if err := a.send(answer); err != nil {
				return fmt.Errorf("answering the server's authentication: %w", err)
			}
		}
	}
}

// getPassword returns the login's password, asking for it the first time only.
func (a *authenticator) getPassword() (string, error) {
	if a.pw == nil {
		pw, err := a.password()
		if err != nil {
			return "", &passwordError{err}
		}
		a.pw = &pw
	}
	return *a.pw, nil
}

// usedPassword reports whether the server was sent something made of the password.
func (a *authenticator) usedPassword() bool { return a.pw != nil && a.answered }

// send writes one PasswordMessage (or SASL response) with body to the server.
func (a *authenticator) send(body []byte) error {
	a.answered = true
	_, err := a.conn.Write(appendMessage(nil, msgPasswordMessage, body))
	return err
}

// offers reports whether the NUL-terminated list of SASL mechanisms holds name.
func offers(list []byte, name string) bool {
	for _, m := range bytes.Split(list, []byte{0}) {
		if string(m) == name {
			return true
		}
	}
	return false
}

// md5Password is the answer to AuthenticationMD5Password: "md5" and
// hex(md5(hex(md5(password + user)) + salt)).
func md5Password(user, password string, salt []byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt...))
	return "md5" + hex.EncodeToString(outer[:])
}
