package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// MaxFrame is the largest request line the agent reads; longer ones are answered with
// -32600 and skipped, so a runaway client cannot make the agent buffer without bound.
const MaxFrame = 1 << 20

// maxReplyFrame is the largest line a client reads from the agent. The agent keeps its
// notifications far smaller (see agent's output chunking); this only guards against a
// runaway peer, not against the agent's legitimate output.
const maxReplyFrame = 64 << 20

// writeTimeout bounds one write to a peer: a client that stops reading is disconnected (a
// failed write closes the connection) instead of holding the agent's goroutines forever.
const writeTimeout = 10 * time.Second

var errFrameTooLarge = errors.New("frame too large")

// lineStream is a jsonrpc2.ObjectStream of newline-delimited JSON objects, one per line, so a
// person can talk to the agent with socat. On the agent's side (answerBadFrames) it answers
// frames that jsonrpc2 would otherwise treat as fatal — invalid JSON, batches, oversized
// lines, objects that are neither request nor response — with the standard JSON-RPC error and
// goes on reading, so one bad line never costs the client its connection.
type lineStream struct {
	conn            net.Conn
	r               *bufio.Reader
	buf             []byte
	answerBadFrames bool
	maxFrame        int         // longest line read; longer ones are skipped
	stalled         atomic.Bool // a write timed out: the peer stopped reading

	wmu sync.Mutex // serialises writes: jsonrpc2's and our own error replies
}

// ServerStream is the agent's side of a connection: a jsonrpc2.ObjectStream that also says
// whether it gave up on a peer that stopped reading.
type ServerStream interface {
	jsonrpc2.ObjectStream
	// Stalled reports whether a write to the peer timed out, after which the stream closed
	// the connection.
	Stalled() bool
}

// NewServerStream wraps an accepted connection for jsonrpc2.NewConn.
func NewServerStream(conn net.Conn) ServerStream {
	return &lineStream{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), answerBadFrames: true, maxFrame: MaxFrame}
}

func newClientStream(conn net.Conn) jsonrpc2.ObjectStream {
	return &lineStream{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), maxFrame: maxReplyFrame}
}

// ReadObject implements jsonrpc2.ObjectStream.
func (s *lineStream) ReadObject(v any) error {
	for {
		line, err := s.readLine()
		if errors.Is(err, errFrameTooLarge) && s.answerBadFrames {
			s.replyError(nil, CodeInvalidRequest, fmt.Sprintf("request line longer than %d bytes: skipped", MaxFrame))
			continue
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		// The common case first, in one pass: jsonrpc2's message type decodes itself, and
		// its own json.Unmarshal validates. Going through json.Unmarshal here, or json.Valid
		// before it, would scan every line once or twice more (see BENCHMARKS.md).
		// Batches ('[') are refused before they reach jsonrpc2, which would accept them.
		if line[0] == '{' || !s.answerBadFrames {
			u, isUnmarshaler := v.(json.Unmarshaler)
			if !isUnmarshaler {
				u = unmarshalInto{v}
			}
			err = u.UnmarshalJSON(line)
			if err == nil || !s.answerBadFrames {
				return err
			}
		}
		// Only a bad frame gets here: say what is wrong with it.
		if !json.Valid(line) {
			var syntaxErr error = json.Unmarshal(line, new(any))
			s.replyError(nil, CodeParseError, fmt.Sprintf("parse error: %v (send one JSON-RPC 2.0 object per line)", syntaxErr))
			continue
		}
		switch line[0] {
		case '{':
			s.replyError(requestID(line), CodeInvalidRequest, "invalid request: "+describeInvalid(line, err))
		case '[':
			s.replyError(nil, CodeInvalidRequest, "batch requests are not supported: send one JSON-RPC 2.0 object per line")
		default:
			s.replyError(nil, CodeInvalidRequest, "invalid request: want a JSON-RPC 2.0 object")
		}
	}
}

// unmarshalInto lets ReadObject treat any value like a json.Unmarshaler.
type unmarshalInto struct{ v any }

func (u unmarshalInto) UnmarshalJSON(data []byte) error { return json.Unmarshal(data, u.v) }

// readLine returns the next line, or errFrameTooLarge after skipping a line over MaxFrame.
// The returned slice is valid until the next call.
func (s *lineStream) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	tooLarge := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		n := len(chunk)
		if err == nil {
			n-- // the newline ends the line; it is not part of it
		}
		if !tooLarge && len(s.buf)+n > s.maxFrame {
			tooLarge, s.buf = true, s.buf[:0]
		}
		if !tooLarge {
			s.buf = append(s.buf, chunk...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(s.buf) > 0:
			return s.buf, nil
		case err != nil:
			return nil, err
		case tooLarge:
			return nil, errFrameTooLarge
		}
		return s.buf, nil
	}
}

// describeInvalid says what is wrong with a JSON object that is no JSON-RPC message.
func describeInvalid(line []byte, err error) string {
	var probe struct {
		Method json.RawMessage `json:"method"`
	}
	_ = json.Unmarshal(line, &probe)
	switch {
	case probe.Method == nil:
		return `no "method" field: send {"jsonrpc":"2.0","id":1,"method":"version"}`
	case probe.Method[0] != '"':
		return `"method" must be a string`
	}
	return strings.TrimPrefix(err.Error(), "jsonrpc2: ")
}

// requestID digs the id out of a request that failed to decode, so the error can name it.
func requestID(line []byte) json.RawMessage {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &probe) != nil || len(probe.ID) == 0 {
		return nil
	}
	switch probe.ID[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return probe.ID
	}
	return nil
}

// replyError writes an error response outside jsonrpc2's bookkeeping. A nil id is sent as
// null, as the spec asks when the id could not be read.
func (s *lineStream) replyError(id json.RawMessage, code int64, msg string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc2.Error  `json:"error"`
	}{"2.0", id, jsonrpc2.Error{Code: code, Message: msg}}
	_ = s.WriteObject(resp) // a failed write surfaces on the next read
}

// WriteObject implements jsonrpc2.ObjectStream.
func (s *lineStream) WriteObject(obj any) error {
	data, err := marshalLine(obj)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err = s.conn.Write(data); err != nil {
		// A failed or timed-out write may have sent part of the line, so the stream is out
		// of step; and a peer that stopped reading is gone for our purposes. Closing ends
		// the reader too, so jsonrpc2 and the agent let go of the connection.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.stalled.Store(true)
		}
		s.conn.Close()
	}
	return err
}

// Stalled implements ServerStream.
func (s *lineStream) Stalled() bool { return s.stalled.Load() }

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

// Close implements jsonrpc2.ObjectStream.
func (s *lineStream) Close() error { return s.conn.Close() }
