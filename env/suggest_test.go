package env

import "testing"

func TestClosest(t *testing.T) {
	words := []string{"forward", "ps", "logs", "stop", "status", "context", "database", "deployment"}
	tests := []struct{ name, word, want string }{
		{"one letter missing", "forwrd", "forward"},
		{"swapped letters", "contetx", "context"},
		{"two edits in a long word", "databse", "database"},
		{"short word, one edit", "sop", "stop"},
		{"nothing near", "frobnicate", ""},
		{"the word itself is no suggestion", "ps", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.word, words); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}
