package door

import (
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/mysql"
)

// BenchmarkConnect measures a client's connection set-up, from dial to the server's first
// bytes, straight to a back end and through a front door in front of it (peer check, dial of
// the back end, the relay's start). The difference is what the front door adds.
//
//	go test -run '^$' -bench Connect -count 5 ./forward/
func BenchmarkConnect(b *testing.B) {
	back := greetingServer(b)
	d, _ := testDoor(b, time.Second)
	d.Up(tcpBackend(back))
	for _, tc := range []struct{ name, addr string }{
		{"direct", back},
		{"front-door", fmt.Sprintf("127.0.0.1:%d", d.Port())},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var took []time.Duration
			buf := make([]byte, 1)
			for b.Loop() {
				start := time.Now()
				c, err := net.Dial("tcp", tc.addr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				c.Close()
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// greetingServer greets each connection with one packet and closes it once the client has.
func greetingServer(b *testing.B) string {
	greeting := mysql.AppendGreeting(nil, "bench", 1)
	return listen(b, func(c net.Conn) {
		_, _ = c.Write(greeting)
		_, _ = io.Copy(io.Discard, c)
	})
}
