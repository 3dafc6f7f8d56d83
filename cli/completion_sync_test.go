package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite scripts/completion/ from what rhizome completion prints")

// TestCompletionScriptsInSync keeps scripts/completion/ (for packagers and checkouts) equal to
// what `rhizome completion SHELL` prints, whose source is cli/completion/. After editing a
// script there: go test ./cli -run TestCompletionScriptsInSync -update
func TestCompletionScriptsInSync(t *testing.T) {
	u := newUser(t)
	for _, tt := range []struct{ shell, file string }{
		{"bash", "rhizome.bash"},
		{"zsh", "_rhizome"},
		{"fish", "rhizome.fish"},
	} {
		t.Run(tt.shell, func(t *testing.T) {
			printed := u.rhizome("completion", tt.shell)
			path := filepath.Join("..", "scripts", "completion", tt.file)
			if *update {
				writeFile(t, path, printed)
				if err := os.Chmod(path, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			inRepo, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(inRepo) != printed {
				t.Errorf("%s differs from what rhizome completion %s prints: edit cli/completion/%s, then run go test ./cli -run TestCompletionScriptsInSync -update",
					path, tt.shell, tt.file)
			}
		})
	}
}
