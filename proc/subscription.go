package proc

// DefaultQueueLines is the queue of a Subscription when Subscribe is given 0.
const DefaultQueueLines = 8192

// maxQueueBatches caps a subscription's channel, whose buffer is sized in
// batches; a subscriber this many batches behind is lagging whatever their
// size.
const maxQueueBatches = 1 << 16

// Subscription receives batches of lines from a Supervisor. Its channel is
// bounded in lines: a subscriber that falls further behind is dropped rather
// than allowed to slow anything down. Methods are safe for concurrent use.
type Subscription struct {
	s      *Supervisor
	filter func(Line) bool
	c      chan []Line
	limit  int // lines

	// Guarded by s.outMu. sizes holds the line count of every batch sent,
	// oldest first, as a ring: the channel only says how many batches are
	// still queued, and those are always the newest ones.
	sizes  []int
	head   int // oldest entry of sizes
	n      int // entries in sizes
	queued int // lines in those entries
	closed bool
	err    error
}

// Subscribe returns a Subscription to every line that filter accepts (nil
// accepts all) from now on, across all processes, in the order the Sink sees
// them. filter is called under the Supervisor's output lock: it must be fast
// and must not call the Supervisor. queueLines bounds the lines queued but
// not yet received (0 means DefaultQueueLines); a batch that would overflow
// it closes the Subscription with ErrLagging. An empty queue always accepts
// one batch, however large, so a subscriber that keeps up is never dropped
// because of batch sizes.
//
// The caller owns the Subscription and must Close it (Shutdown closes it too,
// with ErrShutdown). Batches received from C are shared with other
// subscribers: read them, do not modify them.
func (s *Supervisor) Subscribe(filter func(Line) bool, queueLines int) *Subscription {
	if queueLines <= 0 {
		queueLines = DefaultQueueLines
	}
	nb := min(queueLines, maxQueueBatches)
	sub := &Subscription{
		s:      s,
		filter: filter,
		c:      make(chan []Line, nb),
		limit:  queueLines,
		sizes:  make([]int, nb),
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if s.subsClosed {
		sub.closeLocked(ErrShutdown)
		return sub
	}
	s.subs = append(s.subs, sub)
	return sub
}

// C returns the channel of batches. It is closed when the Subscription ends;
// Err then says why.
func (sub *Subscription) C() <-chan []Line { return sub.c }

// Err returns nil while the Subscription is open or after Close, ErrLagging
// if it was dropped for falling behind, and ErrShutdown if the Supervisor
// shut down.
func (sub *Subscription) Err() error {
	sub.s.outMu.Lock()
	defer sub.s.outMu.Unlock()
	return sub.err
}

// Close ends the Subscription and closes C. Lines still queued in C can be
// drained. Close is idempotent.
func (sub *Subscription) Close() {
	sub.s.outMu.Lock()
	defer sub.s.outMu.Unlock()
	if sub.closed {
		return
	}
	sub.s.removeSubLocked(sub)
	sub.closeLocked(nil)
}

func (sub *Subscription) closeLocked(err error) {
	sub.closed = true
	sub.err = err
	close(sub.c)
}

// offerLocked queues the lines that sub's filter accepts. It never blocks.
// It returns ok false if sub must be dropped for lagging, and shared true if
// the queued batch is lines itself (which the caller then must not reuse).
func (sub *Subscription) offerLocked(lines []Line) (shared, ok bool) {
	batch := lines
	if sub.filter != nil {
		batch = filterLines(lines, sub.filter)
		if len(batch) == 0 {
			return false, true
		}
	}
	// Forget the batches the subscriber has taken: they are the oldest.
	for sub.n > len(sub.c) {
		sub.queued -= sub.sizes[sub.head]
		sub.head = (sub.head + 1) % len(sub.sizes)
		sub.n--
	}
	if sub.n == len(sub.sizes) || (sub.n > 0 && sub.queued+len(batch) > sub.limit) {
		return false, false
	}
	sub.c <- batch // cannot block: only we send, and the buffer has room
	sub.sizes[(sub.head+sub.n)%len(sub.sizes)] = len(batch)
	sub.n++
	sub.queued += len(batch)
	return len(batch) == len(lines), true
}

// filterLines returns the lines f accepts: lines itself when it accepts all
// (the common case, which then costs no copy), nil when it accepts none.
func filterLines(lines []Line, f func(Line) bool) []Line {
	for i := range lines {
		if f(lines[i]) {
			continue
		}
		// First rejection: copy the accepted prefix and filter the rest.
		out := make([]Line, i, len(lines)-1)
		copy(out, lines[:i])
		for _, l := range lines[i+1:] {
			if f(l) {
				out = append(out, l)
			}
		}
		return out
	}
	return lines
}

// removeSubLocked forgets sub; order among subscribers does not matter.
func (s *Supervisor) removeSubLocked(sub *Subscription) {
	for i, x := range s.subs {
		if x == sub {
			last := len(s.subs) - 1
			s.subs[i] = s.subs[last]
			s.subs[last] = nil
			s.subs = s.subs[:last]
			return
		}
	}
}

// emit hands lines, all from p, to the Sink, then p's ring, then every
// subscriber, under one acquisition of s.outMu, so that all three see the
// same order. chunkLen is as for ring.add. It reports whether a subscriber
// kept the lines slice itself, in which case the caller must not reuse it.
func (s *Supervisor) emit(p *Process, lines []Line, chunkLen int) (kept bool) {
	dropped := 0
	s.outMu.Lock()
	if s.opts.Sink != nil {
		s.opts.Sink.WriteLines(lines)
	}
	p.ring.add(lines, chunkLen)
	for i := 0; i < len(s.subs); {
		sub := s.subs[i]
		shared, ok := sub.offerLocked(lines)
		if !ok {
			s.removeSubLocked(sub) // moves the last subscriber to i
			sub.closeLocked(ErrLagging)
			dropped++
			continue
		}
		kept = kept || shared
		i++
	}
	s.outMu.Unlock()
	if dropped > 0 {
		// Not under outMu: Logf may write where a Sink writes.
		s.logf("proc: dropped %d lagging subscriber(s)", dropped)
	}
	return kept
}
