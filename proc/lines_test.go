package proc

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitLines(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name       string
		chunk      string
		skipNL     bool // carried in
		want       []string
		wantSkipNL bool // carried out
	}{
		{name: "lines", chunk: "a\nbb\n", want: []string{"a", "bb"}},
		{name: "empty lines", chunk: "\n\n", want: []string{"", ""}},
		{name: "last without newline (EOF)", chunk: "a\nb", want: []string{"a", "b"}},
		{name: "long line cut", chunk: x(maxLineLen+10) + "\n", want: []string{x(maxLineLen), x(10)}},
		{name: "line of exactly max", chunk: x(maxLineLen) + "\nb\n", want: []string{x(maxLineLen), "b"}},
		{name: "piece of exactly max ends chunk", chunk: x(maxLineLen), want: []string{x(maxLineLen)}, wantSkipNL: true},
		{name: "newline after such a piece", chunk: "\nb\n", skipNL: true, want: []string{"b"}},
		{name: "other text after such a piece", chunk: "c\n", skipNL: true, want: []string{"c"}},
		{name: "two max pieces", chunk: x(2 * maxLineLen), want: []string{x(maxLineLen), x(maxLineLen)}, wantSkipNL: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skip := tt.skipNL
			lines := splitLines(nil, tt.chunk, Line{ID: 7, Stream: Stderr}, &skip)
			got := texts(lines, Stderr)
			if !slices.Equal(got, tt.want) || skip != tt.wantSkipNL {
				t.Errorf("splitLines(%q) = %q, skipNL %v; want %q, skipNL %v", abbrev(tt.chunk), abbrevAll(got), skip, abbrevAll(tt.want), tt.wantSkipNL)
			}
			for _, l := range lines {
				if l.ID != 7 {
					t.Errorf("splitLines(%q) line ID = %d, want 7", abbrev(tt.chunk), l.ID)
				}
			}
		})
	}
}

func TestCutPoint(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		buf  string
		eof  bool
		want int
	}{
		{name: "no newline", buf: "abc", want: 0},
		{name: "up to last newline", buf: "a\nb\ncd", want: 4},
		{name: "at EOF everything", buf: "a\nb\ncd", eof: true, want: 6},
		{name: "long unfinished line", buf: x(maxLineLen + 3), want: maxLineLen},
		{name: "newline then long unfinished line", buf: "a\n" + x(maxLineLen+3), want: 2 + maxLineLen},
	}
	for _, tt := range tests {
		if got := cutPoint([]byte(tt.buf), tt.eof); got != tt.want {
			t.Errorf("cutPoint(%q, %v) = %d, want %d", abbrev(tt.buf), tt.eof, got, tt.want)
		}
	}
}

// abbrev shortens long test strings in failure messages.
func abbrev(s string) string {
	if len(s) <= 20 {
		return s
	}
	return s[:8] + "…(" + itoa(len(s)) + " bytes)…" + s[len(s)-8:]
}

func abbrevAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = abbrev(s)
	}
	return out
}
