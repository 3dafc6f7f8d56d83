package mysql

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// The auth plugins the door can log in with. Each proves the password to the server in its
// own way; the server names the one its user has (in its greeting, or in an AuthSwitchRequest).
const (
	nativePassword = "mysql_native_password"
	cachingSHA2    = "caching_sha2_password" // MySQL 8's default
	clearPassword  = "mysql_clear_password"  // what Cloud SQL's IAM users take: the token itself
	scrambleLength = 20
	sha2FastAuthOK = 3 // AuthMoreData after a caching_sha2 scramble: the server's cache knew it
	sha2FullAuth   = 4 // … it did not: send the password itself, safely
	sha2RequestKey = 2 // the client's request for the server's RSA public key
)

// authData is what the client sends for plugin, with the server's scramble and password.
// ok is false for a plugin the door does not speak.
func authData(plugin string, scramble []byte, password string) (data []byte, ok bool) {
	switch plugin {
	case nativePassword:
		return scrambleNative(scramble, password), true
	case cachingSHA2:
		return scrambleSHA2(scramble, password), true
	case clearPassword:
		// The password itself, as the plugin wants; the door→server leg is the forward, which
		// the chain carries over TLS to the cluster, and Cloud SQL's proxy on to the server.
		return append([]byte(password), 0), true
	}
	return nil, false
}

// scrambleNative is mysql_native_password's proof:
// SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). An empty password sends nothing.
func scrambleNative(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	stage1 := sha1.Sum([]byte(password))
	stage2 := sha1.Sum(stage1[:])
	h := sha1.New()
	h.Write(scramble[:min(len(scramble), scrambleLength)])
	h.Write(stage2[:])
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= stage1[i]
	}
	return out
}

// scrambleSHA2 is caching_sha2_password's fast proof:
// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble).
func scrambleSHA2(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	stage1 := sha256.Sum256([]byte(password))
	stage2 := sha256.Sum256(stage1[:])
	h := sha256.New()
	h.Write(stage2[:])
	h.Write(scramble[:min(len(scramble), scrambleLength)])
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= stage1[i]
	}
	return out
}

// errPublicKey means the server's answer to a request for its RSA key held none.
var errPublicKey = errors.New("mysql: the server's RSA public key did not parse")

// encryptPassword is caching_sha2_password's full authentication on a connection without TLS:
// RSA-OAEP with SHA-1 of (password + NUL) XOR the scramble, with the key the server sent
// (PEM, as MySQL sends it).
func encryptPassword(keyPEM []byte, scramble []byte, password string) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errPublicKey
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		pub, _ = k.(*rsa.PublicKey)
	} else if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		pub = k
	}
	if pub == nil || len(scramble) == 0 {
		return nil, errPublicKey
	}
	plain := append([]byte(password), 0)
	for i := range plain {
		plain[i] ^= scramble[i%len(scramble)]
	}
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plain, nil)
}
