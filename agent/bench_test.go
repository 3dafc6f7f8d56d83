package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// Benchmarks of the agent's hot paths, compared side by side by scripts/bench (see
// BENCHMARKS.md). The Test functions here run the same harnesses on small inputs, so that a
// plain go test keeps them honest without timing anything.

// dialBench is dialAgent for any testing.TB.
func dialBench(tb testing.TB, socket string) *rpc.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpc.Dial(ctx, socket)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkPing is one rpc.Client.Version round trip against an in-process agent: the client's
// encoding, jsonrpc2 on both sides, the agent's dispatch and the socket.
func BenchmarkPing(b *testing.B) {
	a := startAgent(b)
	c := dialBench(b, a.Socket())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Version(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawEcho is the floor BenchmarkPing is compared with: one round trip over a Unix
// socket carrying the same bytes as a version call (the request line the rpc client sends, the
// reply line the agent answers), with nothing but a buffered line read on each side.
func BenchmarkRawEcho(b *testing.B) {
	req, reply := versionExchange(b)
	ec := startEcho(b, reply)
	b.ReportAllocs()
	for b.Loop() {
		ec.roundTrip(b, req)
	}
}

// versionExchange returns a version request line as rpc.Client sends it and the agent's reply
// line, both with their newlines, taken from a real exchange.
func versionExchange(tb testing.TB) (req, reply []byte) {
	tb.Helper()
	a := startAgent(tb)
	c, err := net.Dial("unix", a.Socket())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	req = []byte(`{"id":1,"jsonrpc":"2.0","method":"version"}` + "\n")
	if _, err := c.Write(req); err != nil {
		tb.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, err = bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		tb.Fatal(err)
	}
	return req, reply
}

// echoConn is a client connection to a server that answers every line with a fixed reply.
type echoConn struct {
	c net.Conn
	r *bufio.Reader
}

// startEcho serves reply to every line received on a fresh socket and returns a client.
func startEcho(tb testing.TB, reply []byte) *echoConn {
	tb.Helper()
	ln, err := net.Listen("unix", filepath.Join(shortDir(tb), "echo.sock"))
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		r := bufio.NewReader(s)
		for {
			if _, err := r.ReadSlice('\n'); err != nil {
				return
			}
			if _, err := s.Write(reply); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.Close()
		ln.Close()
		wg.Wait()
	})
	return &echoConn{c: c, r: bufio.NewReader(c)}
}

func (ec *echoConn) roundTrip(tb testing.TB, req []byte) []byte {
	if _, err := ec.c.Write(req); err != nil {
		tb.Fatal(err)
	}
	line, err := ec.r.ReadSlice('\n')
	if err != nil {
		tb.Fatal(err)
	}
	return line
}

func TestRawEcho(t *testing.T) {
	req, reply := versionExchange(t)
	if !bytes.Contains(reply, []byte(`"protocol":`)) {
		t.Fatalf("version reply = %q, want the agent's VersionResult", reply)
	}
	ec := startEcho(t, reply)
	for range 3 {
		if got := ec.roundTrip(t, req); !bytes.Equal(got, reply) {
			t.Fatalf("roundTrip() = %q, want %q", got, reply)
		}
	}
}

// fanoutLines is what the fan-out benchmark's child prints: seq 1 1000000.
const fanoutLines = 1000000

// fanoutCase is one shape of the fan-out benchmark.
type fanoutCase struct {
	name string
	subs int // in-process subscribers (proc.Subscription) reading every line
	// wire clients subscribe over the socket and read as fast as they can; the agent drops one
	// that falls subscriberQueue lines behind, as it must, and the benchmark then reports
	// the share of lines it got (wire-received) instead of failing.
	wire  int
	stuck int // in-process subscribers that never read
}

var fanoutCases = []fanoutCase{
	{name: "logfile"},
	{name: "subs=1", subs: 1},
	{name: "subs=8", subs: 8},
	{name: "stuck=1", stuck: 1},
	{name: "wire=1", wire: 1},
}

// BenchmarkLogfileFanout measures lines per second from a child printing `seq 1 1000000` as
// fast as it can, through the agent's real output path: a Supervisor whose Sink is the
// agent's logFile (seed line format, one write per batch, rotation out of the way as with
// supervisord's stdout_logfile_maxbytes), then its ring and subscribers. Timed: from
// Supervisor.Start to the child's Done (every line written to the logfile) and every reading
// subscriber having received every line.
//
// Subscribers are proc.Subscriptions, as each client subscription is inside the agent, with a
// queue of the whole output (see run); the stuck one has the agent's queue (subscriberQueue)
// and is dropped. wire=1 is a client over the socket, JSON and all, which the agent may drop
// for lagging (see fanoutCase.wire).
func BenchmarkLogfileFanout(b *testing.B) {
	for _, fc := range fanoutCases {
		b.Run(fc.name, func(b *testing.B) {
			fx := newFanout(b)
			received := 0.0
			for b.Loop() {
				received += fx.run(b, fc, fanoutLines)
			}
			b.ReportMetric(float64(fanoutLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			if fc.wire > 0 {
				b.ReportMetric(100*received/float64(b.N), "wire-received-%")
			}
		})
	}
}

// fanoutFixture is an agent whose logfile is truncated before each run, so the disk holds one
// run's worth at a time.
type fanoutFixture struct {
	a    *Agent
	path string
}

func newFanout(tb testing.TB) *fanoutFixture {
	tb.Helper()
	dir := shortDir(tb)
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "agent.log")
	a, err := Start(Config{
		Socket:     filepath.Join(dir, "agent.sock"),
		LogFile:    path,
		LogMax:     1 << 40,
		Executable: exe,
		Version:    "bench",
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return &fanoutFixture{a: a, path: path}
}

// rawSubscriber is a client subscribed over the socket that reads the notifications as raw
// lines. It stands in for rpc.Client, whose stream refuses lines over rpc.MaxFrame: one
// notification can carry a whole read of the child's output, which for short lines is more.
type rawSubscriber struct {
	c net.Conn
	r *bufio.Reader
}

// errLagging is the agent's subscription_ended notice for a subscriber that fell behind.
var errLagging = errors.New("dropped for lagging")

func subscribeRaw(tb testing.TB, socket, target string) *rawSubscriber {
	tb.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	rs := &rawSubscriber{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := c.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"target":"` + target + `"}}` + "\n")); err != nil {
		tb.Fatal(err)
	}
	line, err := rs.r.ReadBytes('\n')
	if err != nil || !bytes.Contains(line, []byte(`"result":{"subscription":`)) {
		tb.Fatalf("subscribe reply %q, %v", line, err)
	}
	return rs
}

// count counts the stdout lines notified until the process's "subprocess finished" event.
func (rs *rawSubscriber) count() (int, error) {
	defer rs.c.Close()
	n := 0
	var buf []byte
	for {
		line, err := rs.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			buf = append(buf, line...)
			continue
		}
		if err != nil {
			return n, err
		}
		if len(buf) > 0 {
			line = append(buf, line...)
			buf = buf[:0]
		}
		if bytes.Contains(line, []byte(`"method":"`+rpc.NotifyEnded+`"`)) {
			if bytes.Contains(line, []byte("fell behind")) {
				return n, errLagging
			}
			return n, fmt.Errorf("subscription ended: %s", line)
		}
		n += bytes.Count(line, []byte(`"stream":"stdout"`))
		if bytes.Contains(line, []byte(`"text":"subprocess finished`)) {
			return n, nil
		}
	}
}

// run starts `seq 1 n` and returns once the logfile has every line and each reading
// subscriber has received every line; it fails the benchmark otherwise. A wire subscriber may
// instead have been dropped for lagging: run returns the share of lines the wire subscribers
// received (1 when every one got all).
func (fx *fanoutFixture) run(tb testing.TB, fc fanoutCase, n int) float64 {
	tb.Helper()
	if b, ok := tb.(*testing.B); ok {
		b.StopTimer()
	}
	fx.a.logfile.mu.Lock()
	if fx.a.logfile.f != nil {
		_ = fx.a.logfile.f.Truncate(0)
		fx.a.logfile.size = 0
	}
	fx.a.logfile.mu.Unlock()

	ctx := context.Background()
	name := "seq" + strconv.Itoa(n)
	var (
		wg     sync.WaitGroup
		counts = make([]int, fc.subs+fc.wire)
		errs   = make([]error, fc.subs+fc.wire)
		subs   []*proc.Subscription
		stuck  []*proc.Subscription
	)
	for i := range fc.subs {
		// The queue holds the whole output, as in proc's BenchmarkFanout: with the agent's
		// subscriberQueue (65,536 lines, about 15 ms of this flood) a drainer that the
		// scheduler leaves out for a quantum or two on a busy 2-core machine is dropped, and
		// what is measured here is the fan-out's throughput, not the scheduler.
		sub := fx.a.sup.Subscribe(func(l proc.Line) bool { return l.Name == name }, n)
		subs = append(subs, sub)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range sub.C() {
				for k := range batch {
					switch {
					case batch[k].Stream == proc.Stdout:
						counts[i]++
					case batch[k].Stream == proc.Event && len(batch[k].Text) > 19 && batch[k].Text[:19] == "subprocess finished":
						return // the last line of the process
					}
				}
			}
			errs[i] = sub.Err()
		}()
	}
	for j := range fc.wire {
		i := fc.subs + j
		rc := subscribeRaw(tb, fx.a.Socket(), name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = rc.count()
		}()
	}
	for range fc.stuck {
		stuck = append(stuck, fx.a.sup.Subscribe(nil, subscriberQueue))
	}

	if b, ok := tb.(*testing.B); ok {
		b.StartTimer()
	}
	p, err := fx.a.sup.Start(ctx, proc.Spec{Name: name, Argv: []string{"seq", "1", strconv.Itoa(n)}})
	if err != nil {
		tb.Fatal(err)
	}
	<-p.Done()
	wg.Wait()
	if b, ok := tb.(*testing.B); ok {
		b.StopTimer()
	}

	for _, sub := range subs {
		sub.Close()
	}
	received := 1.0
	if fc.wire > 0 {
		got := 0
		for i := fc.subs; i < len(counts); i++ {
			got += counts[i]
			if errors.Is(errs[i], errLagging) {
				counts[i], errs[i] = n, nil
			}
		}
		received = float64(got) / float64(n*fc.wire)
	}
	for i, c := range counts {
		if c != n || errs[i] != nil {
			tb.Fatalf("%s: subscriber %d got %d lines (err %v), want %d", fc.name, i, c, errs[i], n)
		}
	}
	for _, sub := range stuck {
		if err := sub.Err(); !errors.Is(err, proc.ErrLagging) {
			tb.Fatalf("%s: stuck subscriber Err() = %v, want %v", fc.name, err, proc.ErrLagging)
		}
		sub.Close()
	}
	if b, ok := tb.(*testing.B); ok {
		b.StartTimer()
	}
	return received
}

// TestLogfileFanout runs every fan-out case with a short child and checks the logfile: each of
// its lines, in the seed's format, once and in order.
func TestLogfileFanout(t *testing.T) {
	const n = 20000
	fx := newFanout(t)
	for _, fc := range fanoutCases {
		if fc.stuck > 0 {
			continue // a queue of subscriberQueue lines does not fill with n lines
		}
		t.Run(fc.name, func(t *testing.T) {
			if got := fx.run(t, fc, n); got != 1 {
				t.Errorf("wire subscribers received %.0f%% of the lines, want all: %d lines fit in their queue", 100*got, n)
			}
			data, err := os.ReadFile(fx.path)
			if err != nil {
				t.Fatal(err)
			}
			name, want := "seq"+strconv.Itoa(n), 1
			for line := range bytes.Lines(data) {
				_, tail, _ := bytes.Cut(line, []byte("] pid="))
				pid, err := strconv.Atoi(string(bytes.TrimSpace(tail)))
				const head = len("2006-01-02 15:04:05 ")
				if err != nil || len(line) < head {
					t.Fatalf("logfile line %q is not in the seed format", line)
				}
				text := string(bytes.TrimSpace(line[head:bytes.LastIndex(line, []byte(" ["))]))
				if !bytes.Contains(line, []byte(" ["+name+"] ")) || strings.HasPrefix(text, "subprocess ") {
					continue // the agent's own lines and the process's events
				}
				// The date and clock aside, byte for byte what rpc.AppendDatedLogLine makes.
				if wantLine := rpc.AppendDatedLogLine(nil, time.Time{}, strconv.Itoa(want), name, pid); !bytes.Equal(line[head-1:], wantLine[len(wantLine)-len(line)+head-1:]) {
					t.Fatalf("logfile line %q, want %q", line, wantLine)
				}
				want++
			}
			if want != n+1 {
				t.Fatalf("logfile has lines 1 to %d of seq, want 1 to %d", want-1, n)
			}
		})
	}
}
