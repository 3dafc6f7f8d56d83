package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// MaxFrame is the largest request line the agent reads; the agent answers longer ones with
// -32600 and skips them, so a runaway client cannot make it buffer without bound.
const MaxFrame = 1 << 20

// maxReplyFrame is the largest line a client reads from the agent. The agent keeps its
// notifications far smaller (see agent's output chunking); this only guards against a
// runaway peer, not against the agent's legitimate output.
const maxReplyFrame = 64 << 20

// writeTimeout bounds one write to a peer: a peer that stops reading is disconnected (a
// failed write closes the connection) instead of holding the writer forever.
const writeTimeout = 10 * time.Second

// ErrFrameTooLarge is returned by LineFramer.ReadLine for a line over the framer's cap, which
// it has skipped: the next ReadLine returns the line after it.
var ErrFrameTooLarge = errors.New("rpc: frame too large")

// LineFramer frames a connection as newline-delimited JSON objects, one per line, so a person
// can talk to the agent with socat. It caps the length of a line read and bounds every write by
// a deadline; what to do with a line is its user's business. ReadLine must be called from one
// goroutine at a time; WriteObject is safe for concurrent use.
type LineFramer struct {
	conn     net.Conn
	r        *bufio.Reader
	buf      []byte
	maxFrame int
	stalled  atomic.Bool // a write timed out: the peer stopped reading

	wmu sync.Mutex // serialises writes
}

// NewLineFramer frames conn, reading lines of at most maxFrame bytes.
func NewLineFramer(conn net.Conn, maxFrame int) *LineFramer {
	return &LineFramer{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), maxFrame: maxFrame}
}

// ReadLine returns the next line without its newline, or ErrFrameTooLarge after skipping a
// line over the cap. A last line without a newline counts as a line. The returned slice is
// valid until the next call.
func (f *LineFramer) ReadLine() ([]byte, error) {
	f.buf = f.buf[:0]
	tooLarge := false
	for {
		chunk, err := f.r.ReadSlice('\n')
		n := len(chunk)
		if err == nil {
			n-- // the newline ends the line; it is not part of it
		}
		if !tooLarge && len(f.buf)+n > f.maxFrame {
			tooLarge, f.buf = true, f.buf[:0]
		}
		if !tooLarge {
			f.buf = append(f.buf, chunk[:n]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(f.buf) > 0:
			return f.buf, nil
		case err != nil:
			return nil, err
		case tooLarge:
			return nil, ErrFrameTooLarge
		}
		return f.buf, nil
	}
}

// WriteObject writes obj as one line of JSON. A write that fails or misses the deadline closes
// the connection: it may have sent part of the line, so the stream is out of step, and a peer
// that stopped reading is gone for our purposes. Closing ends the reader too.
func (f *LineFramer) WriteObject(obj any) error {
	data, err := marshalLine(obj)
	if err != nil {
		return err
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_ = f.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err = f.conn.Write(data); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			f.stalled.Store(true)
		}
		f.conn.Close()
	}
	return err
}

// Stalled reports whether a write timed out because the peer stopped reading, after which the
// framer closed the connection.
func (f *LineFramer) Stalled() bool { return f.stalled.Load() }

// Close closes the connection.
func (f *LineFramer) Close() error { return f.conn.Close() }

// marshalLine encodes obj as one line, newline included. jsonrpc2's messages marshal
// themselves with json.Marshal, so their output is already compact and HTML-escaped; calling
// json.Marshal on them again would only copy and re-scan it to compact it once more.
func marshalLine(obj any) ([]byte, error) {
	m, ok := obj.(json.Marshaler)
	if !ok {
		data, err := json.Marshal(obj)
		return append(data, '\n'), err
	}
	data, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// clientStream is the Client's jsonrpc2.ObjectStream: the agent only sends well-formed lines,
// so any line that does not decode is a broken connection.
type clientStream struct{ f *LineFramer }

func newClientStream(conn net.Conn) clientStream {
	return clientStream{NewLineFramer(conn, maxReplyFrame)}
}

// ReadObject implements jsonrpc2.ObjectStream.
func (s clientStream) ReadObject(v any) error {
	for {
		line, err := s.f.ReadLine()
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return Unmarshal(line, v)
	}
}

// WriteObject implements jsonrpc2.ObjectStream.
func (s clientStream) WriteObject(obj any) error { return s.f.WriteObject(obj) }

// Close implements jsonrpc2.ObjectStream.
func (s clientStream) Close() error { return s.f.Close() }

// Unmarshal decodes one line into v in one pass: jsonrpc2's message type decodes itself, and
// its own json.Unmarshal validates. Going through json.Unmarshal first, or json.Valid before
// it, would scan every line once or twice more (see BENCHMARKS.md).
func Unmarshal(line []byte, v any) error {
	if u, ok := v.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(line)
	}
	return json.Unmarshal(line, v)
}
