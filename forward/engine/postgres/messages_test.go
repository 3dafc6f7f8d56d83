package postgres

import (
	"bytes"
	"reflect"
	"testing"
)

func TestErrorResponseRoundTrip(t *testing.T) {
	fs := fatal(stateCannotConnectNow, "rhizome: na-prod/db is reconnecting", "check your VPN")
	b := appendErrorResponse(nil, fs)
	m, err := readMessage(bytes.NewReader(b))
	if err != nil || m.typ != msgErrorResponse {
		t.Fatalf("readMessage(appendErrorResponse()) = %v, %v", m, err)
	}
	got, err := parseFields(m.body)
	if err != nil || !reflect.DeepEqual(got, fs) {
		t.Errorf("parseFields() = %v, %v; want %v", got, err, fs)
	}
	if got.get('C') != "57P03" || got.get('H') != "check your VPN" || got.get('S') != "FATAL" {
		t.Errorf("fields = %v", got)
	}
	if h := fatal("08006", "m", "").get('H'); h != "" {
		t.Errorf("fatal without a hint has hint %q", h)
	}
	if _, err := parseFields([]byte("Mno end")); err == nil {
		t.Error("parseFields(an unterminated field) = nil error")
	}
}

func TestStartupParams(t *testing.T) {
	s, err := readStartupPacket(bytes.NewReader(appendStartup(nil, "user", "app", "database", "books")))
	if err != nil || !s.protocol3() || s.cancel() {
		t.Fatalf("readStartupPacket(appendStartup()) = %+v, %v", s, err)
	}
	for k, want := range map[string]string{"user": "app", "database": "books", "options": ""} {
		if got := s.param(k); got != want {
			t.Errorf("param(%q) = %q, want %q", k, got, want)
		}
	}
	for _, bad := range [][]byte{{0, 0, 0, 4, 0, 3, 0, 0}, {0x16, 3, 1, 0, 0xa5, 1, 0, 0}} {
		if s, err := readStartupPacket(bytes.NewReader(bad)); err == nil {
			t.Errorf("readStartupPacket(% x) = %+v, want an error", bad, s)
		}
	}
}
