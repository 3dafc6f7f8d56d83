package cli

import (
	"bytes"
	"slices"
	"strings"
)

// splitNUL splits NUL-terminated words, as the kernel lists a command line.
func splitNUL(b []byte) []string {
	var words []string
	for w := range bytes.SplitSeq(b, []byte{0}) {
		words = append(words, string(w))
	}
	return words
}

// isAgentCommand reports whether argv runs the agent of a rhizome binary: its program is named
// rhizome (or rhizome.something, as test builds are) and "agent" is one of its words.
func isAgentCommand(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	prog := argv[0][strings.LastIndexByte(argv[0], '/')+1:]
	return strings.HasPrefix(prog, "rhizome") && slices.Contains(argv[1:], "agent")
}
