package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Codes that stand where a StartupMessage has its protocol version (PostgreSQL's "Message
// Formats"): requests a client sends before, or instead of, a startup.
const (
	gssEncRequestCode = 1234<<16 | 5680
	cancelRequestCode = 1234<<16 | 5678
	// protocolMajor3 is the major version of the only protocol servers of today speak
	// (7.4 and later); its minor versions are negotiated by the server.
	protocolMajor3 = 3
	// maxStartup is PostgreSQL's MAX_STARTUP_PACKET_LENGTH: a server refuses longer ones.
	maxStartup = 10000
)

// startup is the packet a client opens a session with, once any request for encryption is
// answered: a StartupMessage or a CancelRequest, or a startup of a protocol the door does not
// know.
type startup struct {
	raw  []byte // the whole packet, its length included, to send on as it came
	code uint32 // the protocol version, or a request's code
}

// cancel reports whether s is a CancelRequest: it goes to a server as it is, and nothing
// answers it.
func (s startup) cancel() bool { return s.code == cancelRequestCode }

// protocol3 reports whether s is a StartupMessage of protocol 3, whatever its minor version.
func (s startup) protocol3() bool { return s.code>>16 == protocolMajor3 }

// param returns the value of the startup's parameter name ("user", "database", …), or "".
func (s startup) param(name string) string {
	if !s.protocol3() {
		return ""
	}
	// Name and value pairs, each NUL-terminated, then a NUL.
	p := s.raw[startupHeaderLen:]
	for len(p) > 0 && p[0] != 0 {
		k := bytes.IndexByte(p, 0)
		if k < 0 {
			return ""
		}
		v := bytes.IndexByte(p[k+1:], 0)
		if v < 0 {
			return ""
		}
		if string(p[:k]) == name {
			return string(p[k+1 : k+1+v])
		}
		p = p[k+1+v+1:]
	}
	return ""
}

// readStartupPacket reads one packet of the untyped kind a session opens with: a length
// that counts itself, a code, the rest.
func readStartupPacket(r io.Reader) (startup, error) {
	var h [startupHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return startup{}, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n < startupHeaderLen || n > maxStartup {
		// A TLS ClientHello sent straight away (sslnegotiation=direct) ends here too.
		return startup{}, fmt.Errorf("a startup packet of %d bytes is none of PostgreSQL's", n)
	}
	s := startup{raw: make([]byte, n), code: binary.BigEndian.Uint32(h[4:])}
	copy(s.raw, h[:])
	if _, err := io.ReadFull(r, s.raw[startupHeaderLen:]); err != nil {
		return startup{}, err
	}
	return s, nil
}

// readClientStartup reads the client's opening packets, answering an SSLRequest and a
// GSSENCRequest (each at most once, as a server does) with 'N': the door can give neither
// TLS nor GSSAPI encryption, and must read the startup in the clear. A client that requires
// encryption gives up on the 'N' and closes. It returns the first other packet.
func readClientStartup(c net.Conn) (startup, error) {
	asked := map[uint32]bool{}
	for {
		s, err := readStartupPacket(c)
		if err != nil {
			return startup{}, err
		}
		if s.code != pgSSLRequestCode && s.code != gssEncRequestCode {
			return s, nil
		}
		if asked[s.code] || len(s.raw) != startupHeaderLen {
			return startup{}, errors.New("the client asked for encryption twice, or oddly")
		}
		asked[s.code] = true
		if _, err := c.Write([]byte{msgSSLRefused}); err != nil {
			return startup{}, err
		}
	}
}

// appendStartup appends a StartupMessage of protocol 3.0 with params, name then value.
func appendStartup(b []byte, params ...string) []byte {
	body := binary.BigEndian.AppendUint32(nil, protocolMajor3<<16)
	for _, p := range params {
		body = append(append(body, p...), 0)
	}
	body = append(body, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(body)))
	return append(b, body...)
}
