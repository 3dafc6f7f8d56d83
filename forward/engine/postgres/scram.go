package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it: the client's proof that it knows
// the password, and the server's that it knows the verifier, with no password on the wire.
const (
	scramMechanism = "SCRAM-SHA-256"
	// scramGS2Header says "no channel binding, and I do not support it": the door's leg to the
	// server is not TLS, so there is no channel to bind to; its base64 form is "biws".
	scramGS2Header = "n,,"
	// scramMaxIterations bounds the PBKDF2 work a server may ask for (PostgreSQL's default is
	// 4096): a server asking for more is not spent a minute of CPU on.
	scramMaxIterations = 1 << 22
)

// scram is one client's side of a SCRAM-SHA-256 exchange. Its zero value is not usable: use
// newSCRAM.
type scram struct {
	password    string
	nonce       string // the client's
	clientFirst string // client-first-message-bare
	serverSig   []byte // the signature the server must prove in its final message
}

// newSCRAM starts an exchange for password. PostgreSQL ignores SCRAM's user name (the
// startup's counts) and libpq sends none; user is there for RFC 7677's test vector.
//
// The password is used as it is, without SASLprep: equal for every password of printable
// ASCII; a non-ASCII password that SASLprep would change (NFKC) does not log in.
func newSCRAM(user, password string) (*scram, error) {
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	return newSCRAMNonce(user, password, base64.StdEncoding.EncodeToString(raw[:])), nil
}

// newSCRAMNonce is newSCRAM with the client's nonce given.
func newSCRAMNonce(user, password, nonce string) *scram {
	user = strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
	return &scram{password: password, nonce: nonce, clientFirst: "n=" + user + ",r=" + nonce}
}

// first is the client-first-message.
func (s *scram) first() string { return scramGS2Header + s.clientFirst }

// final answers the server-first-message with the client-final-message, holding the proof.
func (s *scram) final(serverFirst string) (string, error) {
	attrs, err := scramAttrs(serverFirst)
	if err != nil {
		return "", err
	}
	nonce, salt64, iter := attrs['r'], attrs['s'], attrs['i']
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return "", errors.New("SCRAM: the server's nonce does not extend the client's")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return "", errors.New("SCRAM: the server's salt is not base64")
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 || n > scramMaxIterations {
		return "", fmt.Errorf("SCRAM: the server asks for %q iterations", iter)
	}
	salted, err := pbkdf2.Key(sha256.New, s.password, salt, n, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("SCRAM: %w", err)
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(scramGS2Header)) + ",r=" + nonce
	authMessage := []byte(s.clientFirst + "," + serverFirst + "," + withoutProof)
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	storedKey := sha256.Sum256(clientKey)
	proof := hmacSHA256(storedKey[:], authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSig = hmacSHA256(hmacSHA256(salted, []byte("Server Key")), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

// verify checks the server-final-message: a server that cannot prove it knows the verifier
// is not the one the password was set on.
func (s *scram) verify(serverFinal string) error {
	attrs, err := scramAttrs(serverFinal)
	if err != nil {
		return err
	}
	if e, ok := attrs['e']; ok {
		return fmt.Errorf("SCRAM: the server says %q", e)
	}
	sig, err := base64.StdEncoding.DecodeString(attrs['v'])
	if err != nil || s.serverSig == nil || !hmac.Equal(sig, s.serverSig) {
		return errors.New("SCRAM: the server's signature is wrong")
	}
	return nil
}

// scramAttrs splits a SCRAM message into its one-letter attributes.
func scramAttrs(msg string) (map[byte]string, error) {
	attrs := map[byte]string{}
	for _, a := range strings.Split(msg, ",") {
		if len(a) < 2 || a[1] != '=' {
			return nil, fmt.Errorf("SCRAM: %q is no attribute", a)
		}
		if _, dup := attrs[a[0]]; !dup {
			attrs[a[0]] = a[2:]
		}
	}
	return attrs, nil
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}
