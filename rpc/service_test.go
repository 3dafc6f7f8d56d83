package rpc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeParams(t *testing.T) {
	tests := []struct {
		name, params string
		want         string // error substring; "" for success
	}{
		{"absent", "", ""},
		{"null", "null", ""},
		{"object", `{"target":"sleeper","lines":3}`, ""},
		{"array", `["sleeper"]`, "want a JSON object with named fields"},
		{"number", `5`, "want a JSON object"},
		{"wrong type", `{"lines":"many"}`, `field "lines" wants int, got string`},
		{"unknown field", `{"target":"x","follow":true}`, `unknown field "follow"`},
		{"truncated", `{"target":`, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw *json.RawMessage
			if tt.params != "" {
				m := json.RawMessage(tt.params)
				raw = &m
			}
			var p LogsParams
			err := DecodeParams(raw, &p)
			if tt.want == "" {
				if err != nil {
					t.Errorf("DecodeParams(%q) = %v, want nil", tt.params, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeParams(%q) = %v, want ErrInvalidParams containing %q", tt.params, err, tt.want)
			}
		})
	}
}

func TestAppendLogLine(t *testing.T) {
	l := LogLine{Name: "sleeper", PID: 93302, Text: "subprocess started"}
	l.Time = l.Time.Add(22*3600e9 + 46*60e9 + 6e9).Local()
	// Format works in local time; build the expectation the same way.
	want := l.Time.Format("15:04:05") + " subprocess started             [sleeper] pid=93302"
	if got := l.Format(); got != want {
		t.Errorf("Format() = %q, want %q", got, want)
	}
	long := LogLine{Name: "x", PID: 1, Text: strings.Repeat("y", 40)}
	if got := long.Format(); !strings.Contains(got, strings.Repeat("y", 40)+" [x] pid=1") {
		t.Errorf("Format() of a long text = %q, want it unpadded and whole", got)
	}
}
