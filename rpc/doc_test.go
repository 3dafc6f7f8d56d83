package rpc

import (
	"os"
	"strings"
	"testing"
)

// Markers around the README's list of methods, which MethodsDoc writes.
const (
	docBegin = "<!-- methods: generated from rpc.Methods (go test ./rpc says when it is stale) -->\n"
	docEnd   = "<!-- end methods -->"
)

// TestREADMEMethods checks that the README lists the methods of the method table, as
// MethodsDoc writes them: one table, whatever the reader looks at.
func TestREADMEMethods(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), docBegin)
	got, _, ok2 := strings.Cut(rest, docEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md has no %q … %q block", docBegin, docEnd)
	}
	if want := MethodsDoc(); got != want {
		t.Errorf("README.md's methods are stale; replace the block with:\n%s", want)
	}
}
