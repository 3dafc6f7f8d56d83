package postgres

import (
	"strings"
	"testing"
)

// TestSCRAMVector runs RFC 7677's example exchange (user "user", password "pencil").
func TestSCRAMVector(t *testing.T) {
	s := newSCRAMNonce("user", "pencil", "rOprNGfwEbeRWgbNEkqO")
	if got := s.first(); got != "n,,n=user,r=rOprNGfwEbeRWgbNEkqO" {
		t.Errorf("first() = %q", got)
	}
	final, err := s.final("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
	want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	if err != nil || final != want {
		t.Fatalf("final() = %q, %v; want %q", final, err, want)
	}
	if err := s.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="); err != nil {
		t.Errorf("verify(the RFC's server-final) = %v", err)
	}
	if err := s.verify("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="); err == nil {
		t.Error("verify(a wrong signature) = nil, want an error")
	}
}

func TestSCRAMRefusesOddServers(t *testing.T) {
	for _, tt := range []struct{ name, serverFirst string }{
		{"another nonce", "r=somethingelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"the client's nonce only", "r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"no salt", "r=abcdef,i=4096"},
		{"too many iterations", "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999"},
		{"no iterations", "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ=="},
		{"garbage", "hello"},
	} {
		s := newSCRAMNonce("", "secret", "abc")
		if got, err := s.final(tt.serverFirst); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("final(%s) = %q, %v; want an error without the password", tt.name, got, err)
		}
	}
}

func TestMD5Password(t *testing.T) {
	// md5("md5" + hex(md5("pencil" + "user")) + salt) as PostgreSQL's pg_md5_encrypt makes it,
	// computed once with Python's hashlib.
	if got := md5Password("user", "pencil", []byte{1, 2, 3, 4}); got != "md5"+md5Want {
		t.Errorf("md5Password(user, pencil, 01020304) = %q, want md5%s", got, md5Want)
	}
}

const md5Want = "4376eb6913b38f9aaff38dc7cf19ca76"
