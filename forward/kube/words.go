package kube

import (
	"regexp"
	"strings"
	"sync"
)

// klogLineRE is client-go's log prefix ("E1201 09:22:27.025044   29427 memcache.go:265] …"):
// repetitions of what kubectl then says once in its own words. Compiled on first use, not at
// every start of the CLI.
var klogLineRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ `)
})

// KubectlWords is what kubectl said on stderr, on one line, without client-go's log lines.
// Every line counts: a connection script's own words come before kubectl's wrapper of them.
func KubectlWords(stderr string) string {
	var words []string
	for line := range strings.SplitSeq(strings.TrimSpace(stderr), "\n") {
		if line = strings.TrimSpace(line); line != "" && !klogLineRE().MatchString(line) {
			words = append(words, line)
		}
	}
	return strings.Join(words, "; ")
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
