package proc

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func itoa(n int) string { return strconv.Itoa(n) }

func mkLines(texts ...string) []Line {
	out := make([]Line, len(texts))
	for i, t := range texts {
		out[i] = Line{Text: t}
	}
	return out
}

func TestRing(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		batches [][]string
		n       int
		want    []string
	}{
		{name: "empty", size: 3, n: 0, want: []string{}},
		{name: "not full", size: 3, batches: [][]string{{"a", "b"}}, n: 0, want: []string{"a", "b"}},
		{name: "last 1 of not full", size: 3, batches: [][]string{{"a", "b"}}, n: 1, want: []string{"b"}},
		{name: "wraps", size: 3, batches: [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, n: 0, want: []string{"c", "d", "e"}},
		{name: "last 2 after wrap", size: 3, batches: [][]string{{"a", "b"}, {"c", "d"}}, n: 2, want: []string{"c", "d"}},
		{name: "batch larger than ring", size: 3, batches: [][]string{{"a"}, {"b", "c", "d", "e", "f"}}, n: 5, want: []string{"d", "e", "f"}},
		{name: "n larger than kept", size: 3, batches: [][]string{{"a"}}, n: 9, want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(tt.size)
			for _, b := range tt.batches {
				r.add(mkLines(b...), 0)
			}
			got := texts(r.last(tt.n), Stdout)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("last(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

// TestRingCompacts checks that a ring keeping a few short lines of a large
// chunk does not pin the chunk.
func TestRingCompacts(t *testing.T) {
	chunk := strings.Repeat("filler line\n", 1000) + "kept 1\nkept 2\n"
	skip := false
	lines := splitLines(nil, chunk, Line{}, &skip)
	r := newRing(2)
	r.add(lines, len(chunk))
	got := r.last(0)
	if tx := texts(got, Stdout); !slices.Equal(tx, []string{"kept 1", "kept 2"}) {
		t.Fatalf("last(0) = %q, want [kept 1 kept 2]", tx)
	}
	lo := uintptr(unsafe.Pointer(unsafe.StringData(chunk)))
	for _, l := range got {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(l.Text))); p >= lo && p < lo+uintptr(len(chunk)) {
			t.Errorf("ring line %q points into the chunk, want a copy", l.Text)
		}
	}
}
