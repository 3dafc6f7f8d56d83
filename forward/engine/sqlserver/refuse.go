package sqlserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"unicode/utf16"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// What a refusal needs of TDS beyond the PRELOGIN (MS-TDS 2.2.3.1.1, 2.2.7.6, 2.2.7.10).
const (
	tdsLogin7     = 0x10
	tokenError    = 0xaa
	tokenDone     = 0xfd
	doneError     = 0x0002
	tdsVersion72  = 0x72090002 // from here on a DONE's row count and an ERROR's line are wider
	maxLogin7     = 1 << 16    // a LOGIN7 message, however many packets it spans
	maxErrorUnits = 1000       // UTF-16 units of a refusal's text: the reply fits one 4096-byte packet
)

// The error a refusal carries. SQL Server has no number of its own for "the way to the
// server is down", so: when the forward may come back by itself, 40613 ("database … is not
// currently available, please retry the connection later"), which Azure SQL sends with class
// 17 and which SqlClient's retry logic, among others, counts as transient; otherwise 50000,
// the number of every message not in sys.messages (RAISERROR's), with class 16, a user's
// error to correct. State 1 for both.
const (
	errTransient      = 40613
	classTransient    = 17
	errNeedsSomeone   = 50000
	classNeedsSomeone = 16
	errorState        = 1
	serverName        = "rhizome"
)

// doorVersion is the server version the door's PRELOGIN reply announces: SQL Server 2022's
// first, a version every client of today logs in to. Clients only show it.
var doorVersion = struct {
	major, minor byte
	build        uint16
}{16, 0, 1000}

// Refuse tells the client on conn why the door cannot serve it, as a server that refuses a
// login does. It reads the client's PRELOGIN and, if the client can do without TLS (its
// ENCRYPTION is off or not supported), answers that encryption is not supported, reads the
// LOGIN7 and answers with an ERROR token carrying r.Text() and a DONE with its error bit:
// drivers show the text as the login's error. A client that requires encryption is closed
// without an answer, since the door cannot give TLS; Refuse says so in its error. The caller
// closes conn and bounds Refuse with conn's deadline.
func Refuse(conn net.Conn, r wire.Refusal) error {
	typ, payload, err := readTDSPacket(conn)
	if err != nil {
		return fmt.Errorf("reading the client's PRELOGIN: %w", err)
	}
	if typ != tdsPrelogin {
		return fmt.Errorf("the client's first packet has type %#x, not PRELOGIN's", typ)
	}
	opts, err := parsePreloginOptions(payload)
	if err != nil {
		return fmt.Errorf("the client's PRELOGIN: %w", err)
	}
	if e := opts[plEncryption]; len(e) != 1 || (e[0] != encryptOff && e[0] != encryptNotSup) {
		return errors.New("the client requires encryption, which the door cannot give: closed without an answer")
	}
	if _, err := conn.Write(appendPreloginReply(nil, doorVersion.major, doorVersion.minor, doorVersion.build)); err != nil {
		return err
	}
	login, err := readMessage(conn, tdsLogin7)
	if err != nil {
		return fmt.Errorf("reading the client's LOGIN7: %w", err)
	}
	version := uint32(tdsVersion72)
	if len(login) >= 8 {
		version = binary.LittleEndian.Uint32(login[4:8])
	}
	number, class := uint32(errNeedsSomeone), byte(classNeedsSomeone)
	if r.Transient {
		number, class = errTransient, classTransient
	}
	tokens := appendErrorToken(nil, number, class, r.Text(), version)
	tokens = appendDoneToken(tokens, doneError, version)
	_, err = conn.Write(appendPacket(nil, tdsTabularResult, tokens))
	return err
}

// readMessage reads the packets of one message of type typ up to the one marked last.
func readMessage(r io.Reader, typ byte) ([]byte, error) {
	var msg []byte
	for {
		var h [tdsHeaderLen]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, err
		}
		size := int(binary.BigEndian.Uint16(h[2:4]))
		if h[0] != typ || size < tdsHeaderLen || len(msg)+size > maxLogin7 {
			return nil, fmt.Errorf("a packet of type %#x and %d bytes, want type %#x", h[0], size, typ)
		}
		start := len(msg)
		msg = append(msg, make([]byte, size-tdsHeaderLen)...)
		if _, err := io.ReadFull(r, msg[start:]); err != nil {
			return nil, err
		}
		if h[1]&tdsStatusEOM != 0 {
			return msg, nil
		}
	}
}

// appendPacket appends payload as one TDS packet of type typ, the last of its message.
func appendPacket(b []byte, typ byte, payload []byte) []byte {
	b = append(b, typ, tdsStatusEOM)
	b = binary.BigEndian.AppendUint16(b, uint16(tdsHeaderLen+len(payload)))
	b = append(b, 0, 0, 1, 0) // SPID 0, packet id 1, window 0
	return append(b, payload...)
}

// appendErrorToken appends an ERROR token (MS-TDS 2.2.7.10): number, state, class, the
// message as US_VARCHAR, the server's name and an empty procedure name as B_VARCHAR, and a
// line number, 4 bytes wide from TDS 7.2 on and 2 before. All little-endian.
func appendErrorToken(b []byte, number uint32, class byte, text string, version uint32) []byte {
	units := utf16.Encode([]rune(text))
	if len(units) > maxErrorUnits {
		units = units[:maxErrorUnits]
	}
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, number)
	body = append(body, errorState, class)
	body = binary.LittleEndian.AppendUint16(body, uint16(len(units)))
	body = appendUTF16(body, units)
	name := utf16.Encode([]rune(serverName))
	body = append(body, byte(len(name)))
	body = appendUTF16(body, name)
	body = append(body, 0) // no procedure
	if version >= tdsVersion72 {
		body = binary.LittleEndian.AppendUint32(body, 1)
	} else {
		body = binary.LittleEndian.AppendUint16(body, 1)
	}
	b = append(b, tokenError)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// appendDoneToken appends a DONE token (MS-TDS 2.2.7.6) with status, no current command and
// a row count of 0, 8 bytes wide from TDS 7.2 on and 4 before.
func appendDoneToken(b []byte, status uint16, version uint32) []byte {
	b = append(b, tokenDone)
	b = binary.LittleEndian.AppendUint16(b, status)
	b = binary.LittleEndian.AppendUint16(b, 0)
	if version >= tdsVersion72 {
		return binary.LittleEndian.AppendUint64(b, 0)
	}
	return binary.LittleEndian.AppendUint32(b, 0)
}

func appendUTF16(b []byte, units []uint16) []byte {
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
