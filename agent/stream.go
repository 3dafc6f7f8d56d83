package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/rhizome-dev/rhizome/rpc"
)

// wireStream is the agent's side of a connection, a jsonrpc2.ObjectStream over rpc's line
// framer with two policies of the agent's:
//
//   - Bad frames — invalid JSON, batches, oversized lines, objects that are neither request
//     nor response, all of which jsonrpc2 would treat as fatal — are answered with the
//     standard JSON-RPC error, and reading goes on: one bad line never costs a client its
//     connection.
//   - At the end of the client's input (its EOF, e.g. a half-close after its last request),
//     atEOF runs before jsonrpc2 hears of it, which would tear the connection down: the
//     session ends its subscriptions there and waits for the answers to every request read.
type wireStream struct {
	f     *rpc.LineFramer
	atEOF func()
}

// ReadObject implements jsonrpc2.ObjectStream.
func (s *wireStream) ReadObject(v any) error {
	for {
		line, err := s.f.ReadLine()
		if errors.Is(err, rpc.ErrFrameTooLarge) {
			s.replyError(nil, rpc.CodeInvalidRequest, fmt.Sprintf("request line longer than %d bytes: skipped", rpc.MaxFrame))
			continue
		}
		if err != nil {
			// EOF or a broken connection: either way no more requests come, and the ones
			// read deserve their answers (a write to a closed peer fails at once).
			s.atEOF()
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		// The common case first, in one pass; batches ('[') are refused before they reach
		// jsonrpc2, which would accept them.
		if line[0] == '{' {
			if err = rpc.Unmarshal(line, v); err == nil {
				return nil
			}
		}
		s.answerBadFrame(line, err)
	}
}

// answerBadFrame says what is wrong with a line that is no JSON-RPC message; err is the
// decoding error of an object.
func (s *wireStream) answerBadFrame(line []byte, err error) {
	if !json.Valid(line) {
		syntaxErr := json.Unmarshal(line, new(any))
		s.replyError(nil, rpc.CodeParseError, fmt.Sprintf("parse error: %v (send one JSON-RPC 2.0 object per line)", syntaxErr))
		return
	}
	switch line[0] {
	case '{':
		s.replyError(requestID(line), rpc.CodeInvalidRequest, "invalid request: "+describeInvalid(line, err))
	case '[':
		s.replyError(nil, rpc.CodeInvalidRequest, "batch requests are not supported: send one JSON-RPC 2.0 object per line")
	default:
		s.replyError(nil, rpc.CodeInvalidRequest, "invalid request: want a JSON-RPC 2.0 object")
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
func (s *wireStream) replyError(id json.RawMessage, code int64, msg string) {
	_ = s.f.WriteObject(errorLine(id, code, msg)) // a failed write surfaces on the next read
}

// errorLine is a JSON-RPC error response for id (null when nil).
func errorLine(id json.RawMessage, code int64, msg string) any {
	if id == nil {
		id = json.RawMessage("null")
	}
	return struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc2.Error  `json:"error"`
	}{"2.0", id, jsonrpc2.Error{Code: code, Message: msg}}
}

// WriteObject implements jsonrpc2.ObjectStream.
func (s *wireStream) WriteObject(obj any) error { return s.f.WriteObject(obj) }

// Close implements jsonrpc2.ObjectStream.
func (s *wireStream) Close() error { return s.f.Close() }
