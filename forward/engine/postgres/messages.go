package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Message types of protocol 3 that the door reads or writes (PostgreSQL's "Message Formats").
const (
	msgAuthentication     = 'R'
	msgErrorResponse      = 'E'
	msgNoticeResponse     = 'N'
	msgNegotiateProtocol  = 'v'
	msgParameterStatus    = 'S'
	msgReadyForQuery      = 'Z'
	msgPasswordMessage    = 'p' // also SASLInitialResponse and SASLResponse
	msgTerminate          = 'X'
	msgSSLRefused         = 'N' // the one-byte answer to an SSLRequest or GSSENCRequest
	maxLoginMessage       = 1 << 16
	messageHeaderLen      = 5 // type byte, then a big-endian length that counts itself
	startupHeaderLen      = 8 // length, then protocol version or request code
	errorResponseTerminal = 0
)

// SQLSTATEs the door sends of its own (PostgreSQL's "Error Codes", appendix A).
const (
	// stateCannotConnectNow is what a server says while it starts up or shuts down: clients
	// and poolers read it as "try again soon", which is what a reconnecting forward means.
	stateCannotConnectNow = "57P03"
	// stateConnectionFailure says the connection to the database failed and someone must act.
	stateConnectionFailure = "08006"
	// stateInvalidPassword is the server's answer to a wrong password (or unknown user).
	stateInvalidPassword = "28P01"
	// stateInvalidAuthorization is the class of authentication failures: the door could not
	// get a password to log in with.
	stateInvalidAuthorization = "28000"
)

// message is one protocol-3 message: its type byte and its body, without the length.
type message struct {
	typ  byte
	body []byte
}

// readMessage reads exactly one message from r, and no byte more: what follows belongs to
// the relay. A message longer than maxLoginMessage is refused, as none of the opening's is.
func readMessage(r io.Reader) (message, error) {
	var h [messageHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return message{}, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n < 4 || n-4 > maxLoginMessage {
		return message{}, fmt.Errorf("a message of type %q and %d bytes is none of PostgreSQL's opening", h[0], n)
	}
	m := message{typ: h[0], body: make([]byte, n-4)}
	if _, err := io.ReadFull(r, m.body); err != nil {
		return message{}, err
	}
	return m, nil
}

// appendMessage appends a message of type typ with body.
func appendMessage(b []byte, typ byte, body []byte) []byte {
	b = append(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(body)))
	return append(b, body...)
}

// field is one field of an ErrorResponse or NoticeResponse: its one-byte tag ('S' severity,
// 'V' its untranslated form, 'C' SQLSTATE, 'M' message, 'H' hint, …) and its value.
type field struct {
	tag   byte
	value string
}

// fields are an ErrorResponse's, in the order they came.
type fields []field

// get returns the value of the first field tagged tag, or "".
func (fs fields) get(tag byte) string {
	for _, f := range fs {
		if f.tag == tag {
			return f.value
		}
	}
	return ""
}

// with returns fs with tag's value set to value: replaced where it is, or added at the end.
func (fs fields) with(tag byte, value string) fields {
	out := append(fields(nil), fs...)
	for i := range out {
		if out[i].tag == tag {
			out[i].value = value
			return out
		}
	}
	return append(out, field{tag, value})
}

// String is the error as psql prints it: "FATAL:  message" and any hint on its own line.
func (fs fields) String() string {
	s := fs.get('S') + ":  " + fs.get('M')
	if h := fs.get('H'); h != "" {
		s += "\nHINT:  " + h
	}
	return s
}

// fatal is a FATAL error of SQLSTATE state with message and hint ("" for none): the door's own
// errors, the simulated server's and the refusal's, built in this one place.
func fatal(state, message, hint string) fields {
	fs := fields{{'S', "FATAL"}, {'V', "FATAL"}, {'C', state}, {'M', message}}
	if hint != "" {
		fs = append(fs, field{'H', hint})
	}
	return fs
}

// appendErrorResponse appends an ErrorResponse carrying fs.
func appendErrorResponse(b []byte, fs fields) []byte {
	var body []byte
	for _, f := range fs {
		// A NUL would end the field early; no message of ours has one, a peer's might.
		body = append(append(append(body, f.tag), strings.ReplaceAll(f.value, "\x00", "")...), 0)
	}
	return appendMessage(b, msgErrorResponse, append(body, errorResponseTerminal))
}

// parseFields reads the body of an ErrorResponse or NoticeResponse.
func parseFields(body []byte) (fields, error) {
	var fs fields
	for len(body) > 0 && body[0] != errorResponseTerminal {
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			return nil, errors.New("an error field has no end")
		}
		fs = append(fs, field{body[0], string(body[1 : 1+end])})
		body = body[2+end:]
	}
	if len(body) == 0 {
		return nil, errors.New("the error's fields have no end")
	}
	return fs, nil
}

// serverError is an ErrorResponse the server sent while the door logged in.
type serverError struct{ fields fields }

func (e *serverError) Error() string {
	return fmt.Sprintf("the server said %s %s: %s", e.fields.get('S'), e.fields.get('C'), e.fields.get('M'))
}
