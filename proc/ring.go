package proc

import "strings"

// ring keeps the most recent lines of one Process. It is not safe for
// concurrent use: the Supervisor guards every ring with its outMu. Its zero
// value keeps nothing; newRing sizes it.
type ring struct {
	size  int    // lines kept at most
	lines []Line // grows up to size, then wraps
	next  int    // once full: where the next line goes (the oldest)
}

func newRing(n int) ring {
	// lines grows as needed: most processes print far fewer than n lines,
	// and many retained short-lived processes should not cost full rings.
	return ring{size: n}
}

// add appends lines. chunkLen is the length of the string the lines' Texts
// were cut from (0 for lines with texts of their own). When the kept lines
// would pin a chunk mostly made of lines already dropped, their texts are
// copied into one new string, so that a ring never holds much more memory
// than the text it shows.
func (r *ring) add(lines []Line, chunkLen int) {
	c := r.size
	if c == 0 {
		return
	}
	if len(lines) > c {
		lines = lines[len(lines)-c:]
	}
	var compact string
	if chunkLen > 0 {
		n := 0
		for i := range lines {
			n += len(lines[i].Text)
		}
		if 2*n < chunkLen {
			var b strings.Builder
			b.Grow(n)
			for i := range lines {
				b.WriteString(lines[i].Text)
			}
			compact = b.String()
		}
	}
	off := 0
	for _, l := range lines {
		if compact != "" {
			n := len(l.Text)
			l.Text = compact[off : off+n]
			off += n
		}
		if len(r.lines) < c {
			r.lines = append(r.lines, l)
			continue
		}
		r.lines[r.next] = l
		r.next++
		if r.next == c {
			r.next = 0
		}
	}
}

// last returns a copy of the newest n lines, oldest first; n <= 0 means all.
func (r *ring) last(n int) []Line {
	have := len(r.lines)
	if n <= 0 || n > have {
		n = have
	}
	out := make([]Line, n)
	// Lines in order are r.lines[next:] then r.lines[:next].
	start := (r.next + have - n) % max(have, 1)
	k := copy(out, r.lines[start:])
	if k < n {
		copy(out[k:], r.lines[:n-k])
	}
	return out
}
