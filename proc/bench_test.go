package proc

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"
)

// formatSink formats every line as the agent's logfile does
// ("15:04:05 text [name] pid=N") through a buffer into io.Discard.
type formatSink struct {
	w     io.Writer
	buf   []byte
	last  time.Time
	stamp []byte
	n     int
}

func (f *formatSink) WriteLines(lines []Line) {
	for i := range lines {
		l := &lines[i]
		if !l.Time.Equal(f.last) { // all lines of a read share their Time
			f.last = l.Time
			f.stamp = l.Time.AppendFormat(f.stamp[:0], "15:04:05")
		}
		b := append(f.buf, f.stamp...)
		b = append(b, ' ')
		b = append(b, l.Text...)
		b = append(b, " ["...)
		b = append(b, l.Name...)
		b = append(b, "] pid="...)
		b = strconv.AppendInt(b, int64(l.PID), 10)
		b = append(b, '\n')
		if len(b) > 60<<10 {
			f.w.Write(b)
			b = b[:0]
		}
		f.buf = b
	}
	f.n += len(lines)
}

// BenchmarkFanout measures lines per second from a child printing
// `seq 1 1000000` as fast as it can, through a formatting Sink, to draining
// subscribers and stuck ones (which never read and get dropped).
func BenchmarkFanout(b *testing.B) {
	for _, bc := range []struct {
		name        string
		subs, stuck int
	}{
		{"subs=0", 0, 0},
		{"subs=1", 1, 0},
		{"subs=8", 8, 0},
		{"stuck=1", 0, 1},
		{"subs=8,stuck=1", 8, 1},
	} {
		b.Run(bc.name, func(b *testing.B) { benchFanout(b, bc.subs, bc.stuck) })
	}
}

func benchFanout(b *testing.B, subs, stuck int) {
	const n = 1000000
	ctx := context.Background()
	sink := &formatSink{w: io.Discard, buf: make([]byte, 0, 64<<10)}
	s := New(Options{Sink: sink})
	defer s.Shutdown(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var (
			wg     sync.WaitGroup
			counts = make([]int, subs)
			open   []*Subscription
		)
		for j := range subs {
			// The queue holds the whole output: with 8 drainers sharing
			// the one core the reader leaves, a drainer that keeps up on
			// average can still be a scheduling quantum (10ms, ~200k lines
			// here) behind, and every line must arrive. The time until the
			// last drainer is done is measured all the same.
			sub := s.Subscribe(nil, n)
			open = append(open, sub)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for batch := range sub.C() {
					for k := range batch {
						if batch[k].Stream == Stdout {
							counts[j]++
						}
					}
				}
			}()
		}
		var stuckSubs []*Subscription
		for range stuck {
			stuckSubs = append(stuckSubs, s.Subscribe(nil, 0))
		}
		p, err := s.Start(ctx, Spec{Name: "seq", Argv: []string{"seq", "1", strconv.Itoa(n)}})
		if err != nil {
			b.Fatal(err)
		}
		<-p.Done()
		for _, sub := range open {
			sub.Close() // queued batches can still be received
		}
		wg.Wait()
		for j, c := range counts {
			if c != n || open[j].Err() != nil {
				b.Fatalf("subscriber %d got %d lines (Err %v), want %d", j, c, open[j].Err(), n)
			}
		}
		for _, sub := range stuckSubs {
			if err := sub.Err(); !errors.Is(err, ErrLagging) {
				b.Fatalf("stuck subscriber Err() = %v, want %v", err, ErrLagging)
			}
			sub.Close()
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
