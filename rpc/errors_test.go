package rpc

import (
	"errors"
	"fmt"
	"testing"
)

// TestErrorsSurviveTheWire checks that every sentinel the agent wraps comes back from the
// client's side of the wire as the same sentinel, with the agent's words.
func TestErrorsSurviveTheWire(t *testing.T) {
	for _, c := range codes {
		t.Run(c.err.Error(), func(t *testing.T) {
			sent := WithCode(c.err, fmt.Errorf("stopping 42: %w", errors.New("it is stuck")))
			wire := ToWire(sent)
			if wire.Code != c.code || wire.Message != "stopping 42: it is stuck" {
				t.Errorf("ToWire(%v) = %d %q, want %d with the error's own message", sent, wire.Code, wire.Message, c.code)
			}
			got := fromWire(wire)
			if !errors.Is(got, c.err) || got.Error() != wire.Message {
				t.Errorf("fromWire(%v) = %v, want errors.Is %v", wire, got, c.err)
			}
		})
	}
	if w := ToWire(errors.New("boom")); w.Code != CodeInternalError {
		t.Errorf("ToWire(plain error).Code = %d, want %d", w.Code, CodeInternalError)
	}
	if w := ToWire(UnknownMethod("nope")); w.Code != CodeMethodNotFound {
		t.Errorf("ToWire(UnknownMethod).Code = %d, want %d", w.Code, CodeMethodNotFound)
	}
}
