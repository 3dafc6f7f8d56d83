package agent

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/rhizome-dev/rhizome/rpc"
)

// lineFormatter renders the agent's own logrus entries in the same line format as children's
// output in the logfile (dated), under the name "agent" (or the entry's "proc" field), followed
// by the other fields as key=value:
//
//	2026-12-05 14:02:03 agent started       [agent] pid=4242 socket=/run/user/1000/rhizome/agent.sock
//
// It must not log: it runs under logrus's lock.
type lineFormatter struct{}

func (lineFormatter) Format(e *logrus.Entry) ([]byte, error) {
	name := "agent"
	if n, ok := e.Data["proc"].(string); ok {
		name = n
	}
	b := rpc.AppendDatedLogLine(make([]byte, 0, 128), e.Time, e.Message, name, os.Getpid())
	b = b[:len(b)-1]
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		if k != "proc" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = append(b, ' ')
		b = append(b, k...)
		b = append(b, '=')
		b = appendValue(b, e.Data[k])
	}
	return append(b, '\n'), nil
}

func appendValue(b []byte, v any) []byte {
	s, ok := v.(string)
	if !ok {
		if err, isErr := v.(error); isErr {
			s = err.Error()
		} else {
			s = fmt.Sprint(v)
		}
	}
	for _, r := range s {
		if r == ' ' || r == '"' || r == '=' || r < 0x20 {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}
