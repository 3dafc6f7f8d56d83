package proc

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

// receive collects the lines of process id from sub until its
// "subprocess finished" event. C must not close first.
func receive(t *testing.T, sub *Subscription, id func() int64) []Line {
	t.Helper()
	var got []Line
	timeout := time.After(testTimeout)
	for {
		select {
		case batch, ok := <-sub.C():
			if !ok {
				t.Fatalf("C() closed after %d lines: Err() = %v", len(got), sub.Err())
			}
			for _, l := range batch {
				if l.ID != id() {
					continue
				}
				got = append(got, l)
				if l.Stream == Event && len(l.Text) > 19 && l.Text[:19] == "subprocess finished" {
					return got
				}
			}
		case <-timeout:
			t.Fatalf("no finished event after %v; got %d lines", testTimeout, len(got))
		}
	}
}

func seqTexts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}

func TestSubscribeReceivesEverything(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	const n = 50000
	sub := s.Subscribe(nil, n+10) // never lagging, however slow this test runs
	defer sub.Close()
	p := start(t, s, Spec{Name: "seq", Argv: []string{"seq", strconv.Itoa(n)}})
	got := receive(t, sub, p.ID)
	if tx := texts(got, Stdout); !slices.Equal(tx, seqTexts(n)) {
		t.Errorf("subscriber got %d stdout lines, want 1..%d in order", len(tx), n)
	}
	if ev := texts(got, Event); !slices.Equal(ev, []string{"subprocess started", "subprocess finished status=0"}) {
		t.Errorf("subscriber got events %q, want started and finished", ev)
	}
	waitDone(t, p)
	if !slices.Equal(rec.of(p.ID()), got) {
		t.Errorf("subscriber and Sink saw different lines")
	}
}

func TestSubscribeFilter(t *testing.T) {
	s := newSupervisor(t, Options{})
	var want int64
	sub := s.Subscribe(func(l Line) bool { return l.Name == "wanted" && l.Text != "2" }, 0)
	defer sub.Close()
	other := start(t, s, Spec{Name: "other", Argv: []string{"seq", "100"}})
	p := start(t, s, Spec{Name: "wanted", Argv: []string{"seq", "3"}})
	want = p.ID()
	got := receive(t, sub, func() int64 { return want })
	if tx := texts(got, Stdout); !slices.Equal(tx, []string{"1", "3"}) {
		t.Errorf("filtered subscriber got %q, want [1 3]", tx)
	}
	waitDone(t, other)
}

// TestStuckSubscriber checks that a subscriber that never reads is dropped
// with ErrLagging while another receives every line.
func TestStuckSubscriber(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	stuck := s.Subscribe(nil, 1000)
	good := s.Subscribe(nil, 1<<20)
	defer good.Close()
	const n = 200000
	p := start(t, s, Spec{Name: "seq", Argv: []string{"seq", strconv.Itoa(n)}})
	got := receive(t, good, p.ID)
	if tx := texts(got, Stdout); !slices.Equal(tx, seqTexts(n)) {
		t.Errorf("good subscriber got %d stdout lines, want 1..%d in order", len(tx), n)
	}
	queued := 0
	for batch := range stuck.C() { // closed when dropped
		queued += len(batch)
	}
	if err := stuck.Err(); !errors.Is(err, ErrLagging) {
		t.Errorf("stuck Err() = %v, want %v", err, ErrLagging)
	}
	if queued == 0 || queued >= n {
		t.Errorf("stuck subscriber had %d lines queued, want some but not all", queued)
	}
	waitDone(t, p)
	if got := len(texts(rec.of(p.ID()), Stdout)); got != n {
		t.Errorf("Sink got %d lines, want %d", got, n)
	}
}

func TestSubscriptionClose(t *testing.T) {
	s := newSupervisor(t, Options{})
	sub := s.Subscribe(nil, 0)
	sub.Close()
	sub.Close()
	if _, ok := <-sub.C(); ok {
		t.Errorf("C() open after Close")
	}
	if err := sub.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil", err)
	}
}

// TestOffer checks a subscription's queue accounting, in lines.
func TestOffer(t *testing.T) {
	batch := func(n int) []Line { return make([]Line, n) }
	tests := []struct {
		name  string
		limit int
		steps []int // > 0: offer that many lines; < 0: receive one batch
		want  []bool
	}{
		{name: "fits", limit: 10, steps: []int{4, 6}, want: []bool{true, true}},
		{name: "overflows", limit: 10, steps: []int{4, 7}, want: []bool{true, false}},
		{name: "received batches free room", limit: 10, steps: []int{4, 6, -1, 4}, want: []bool{true, true, true}},
		{name: "empty queue takes a large batch", limit: 10, steps: []int{50}, want: []bool{true}},
		{name: "but not a second", limit: 10, steps: []int{50, 1}, want: []bool{true, false}},
		{name: "after it is received", limit: 10, steps: []int{50, -1, 10}, want: []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Supervisor{}
			sub := &Subscription{s: s, c: make(chan []Line, tt.limit), limit: tt.limit, sizes: make([]int, tt.limit)}
			var got []bool
			for _, st := range tt.steps {
				if st < 0 {
					<-sub.c
					continue
				}
				_, ok := sub.offerLocked(batch(st))
				got = append(got, ok)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("offerLocked(%v) = %v, want %v", tt.steps, got, tt.want)
			}
		})
	}
}
