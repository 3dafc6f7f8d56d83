package forward

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultPortPattern matches Cloud SQL Auth Proxy v2's announcement for one instance:
//
//	2024/01/02 15:04:05 [proj:region:inst] Listening on 127.0.0.1:5432
//
// "{instance}" is replaced by the quoted instance name.
const DefaultPortPattern = `\[{instance}\] Listening on (?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):(\d+)`

func compilePattern(pattern, instance string) (*regexp.Regexp, error) {
	if pattern == "" {
		pattern = DefaultPortPattern
	}
	re, err := regexp.Compile(strings.ReplaceAll(pattern, "{instance}", regexp.QuoteMeta(instance)))
	if err != nil {
		return nil, fmt.Errorf("%w: port_pattern: %v", ErrInvalid, err)
	}
	if re.NumSubexp() < 1 {
		return nil, fmt.Errorf("%w: port_pattern %q needs a group that captures the port", ErrInvalid, pattern)
	}
	return re, nil
}

// portAnnouncements returns, in order, every port the log announces for the instance.
func portAnnouncements(re *regexp.Regexp, log string) []int {
	var ports []int
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		if p, err := strconv.Atoi(m[1]); err == nil && p > 0 && p < 65536 {
			ports = append(ports, p)
		}
	}
	return ports
}
