package proc

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"time"
)

// maxLineLen caps a line: output without a newline is cut into pieces this
// long, so a child that never prints one cannot grow our buffer without end.
const maxLineLen = 64 << 10

// readBufLen leaves room for one read as large as a default pipe buffer
// after an unfinished line shorter than maxLineLen.
const readBufLen = 2 * maxLineLen

// read turns one output pipe of the child into batches of lines until EOF
// (or until drain closes f). Output moves in chunks, not lines: one read,
// one string allocation, one time.Now, one emit; every line's Text is a
// substring of the chunk.
func (c *child) read(f *os.File, stream Stream) {
	defer func() { c.readDone <- struct{}{} }()
	var (
		buf    = make([]byte, readBufLen)
		n      int    // bytes of buf holding a line not yet ended
		lines  []Line // reused while no subscriber keeps it
		skipNL bool
		tmpl   = Line{ID: c.p.id, PID: c.pid, Name: c.p.spec.Name, Stream: stream}
	)
	for {
		m, err := f.Read(buf[n:])
		n += m
		eof := err != nil
		cut := cutPoint(buf[:n], eof)
		if cut > 0 {
			chunk := string(buf[:cut])
			tmpl.Time = time.Now()
			// Sized once (counting is cheap next to growing by copies).
			lines = slices.Grow(lines[:0], strings.Count(chunk, "\n")+1)
			lines = splitLines(lines, chunk, tmpl, &skipNL)
			if len(lines) > 0 && c.p.s.emit(c.p, lines, len(chunk)) {
				lines = nil // a subscriber has it
			}
			n = copy(buf, buf[cut:n])
		}
		if eof {
			return
		}
	}
}

// cutPoint returns how much of b to turn into lines now: up to the last
// newline, plus whole maxLineLen pieces of a longer unfinished line; at EOF,
// everything.
func cutPoint(b []byte, eof bool) int {
	if eof {
		return len(b)
	}
	cut := bytes.LastIndexByte(b, '\n') + 1
	if rest := len(b) - cut; rest >= maxLineLen {
		cut += rest / maxLineLen * maxLineLen
	}
	return cut
}

// splitLines appends the lines of chunk to dst, each a copy of tmpl with its
// Text. Lines longer than maxLineLen are cut into pieces. *skipNL carries,
// from one chunk to the next, that a piece of exactly maxLineLen ended the
// previous chunk: a newline right after it ends that line rather than
// making an empty one.
func splitLines(dst []Line, chunk string, tmpl Line, skipNL *bool) []Line {
	pos := 0
	if *skipNL && len(chunk) > 0 && chunk[0] == '\n' {
		pos = 1
	}
	*skipNL = false
	for pos < len(chunk) {
		rest := chunk[pos:]
		// Look no further than a full line and its newline.
		i := strings.IndexByte(rest[:min(len(rest), maxLineLen+1)], '\n')
		switch {
		case i >= 0:
			tmpl.Text = rest[:i]
			pos += i + 1
		case len(rest) > maxLineLen:
			tmpl.Text = rest[:maxLineLen]
			pos += maxLineLen
		default: // a last piece without newline: cut at maxLineLen, or EOF
			tmpl.Text = rest
			pos = len(chunk)
			*skipNL = len(rest) == maxLineLen
		}
		dst = append(dst, tmpl)
	}
	return dst
}
