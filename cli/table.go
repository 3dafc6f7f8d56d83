package cli

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// table is a listing for people: columns two blanks apart, and, on a terminal narrower than
// the rows, the wide columns cut with … (the fix in a detail stays visible). --wide and --json
// give everything.
type table struct {
	header []string
	rows   [][]string
	// shrink lists the columns that may be cut, widest first when the row is too long.
	shrink []int
	// fromStart lists the columns whose start matters least (paths): cut at the front.
	fromStart []int
	// label is the column that names a row in a note: a fix too long for its cut cell is
	// printed whole below the table, after the row's label.
	label int
}

// columnGap separates columns.
const columnGap = 2

// minCut is the narrowest a cut column gets.
const minCut = 12

// fixMark starts the part of a detail that says what to do; cutting keeps it.
const fixMark = "; fix: "

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write renders t for a screen width columns wide; 0 means no limit.
func (t *table) write(w io.Writer, width int) error {
	all := append([][]string{t.header}, t.rows...)
	widths := make([]int, len(t.header))
	for _, r := range all {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	if width > 0 {
		t.fit(widths, width)
	}
	var b strings.Builder
	var notes []string
	for _, r := range all {
		for i, cell := range r {
			whole := cell
			cell = cut(cell, widths[i], contains(t.fromStart, i))
			if j := strings.LastIndex(whole, fixMark); j > 0 && !strings.Contains(cell, fixMark) {
				notes = append(notes, r[t.label]+": fix: "+whole[j+len(fixMark):])
			}
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+columnGap))
			}
		}
		b.WriteByte('\n')
	}
	for _, n := range notes {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fit narrows the shrinkable columns, the widest first, until a row fits width or none can
// give more.
func (t *table) fit(widths []int, width int) {
	total := func() int {
		n := columnGap * (len(widths) - 1)
		for _, w := range widths {
			n += w
		}
		return n
	}
	for total() > width {
		widest := -1
		for _, i := range t.shrink {
			if widths[i] > minCut && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return
		}
		widths[widest] -= min(total()-width, widths[widest]-minCut, max(1, widths[widest]-secondWidest(widths, t.shrink, widest)))
	}
}

// secondWidest is the width of the widest shrinkable column other than skip.
func secondWidest(widths, shrink []int, skip int) int {
	w := 0
	for _, i := range shrink {
		if i != skip {
			w = max(w, widths[i])
		}
	}
	return w
}

// cut shortens s to n runes with …: at the front when fromStart, else in the text before a
// fix, which stays whole when it fits, else at the end.
func cut(s string, n int, fromStart bool) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if fromStart {
		return "…" + string(r[len(r)-n+1:])
	}
	if i := strings.LastIndex(s, fixMark); i > 0 {
		fix := []rune(s[i:])
		if keep := n - len(fix) - 1; keep >= 8 {
			return string([]rune(s[:i])[:keep]) + "…" + string(fix)
		}
	}
	return string(r[:n-1]) + "…"
}

func contains(list []int, i int) bool {
	for _, x := range list {
		if x == i {
			return true
		}
	}
	return false
}

// wideFlag is --wide, for the listings that fit the terminal.
func wideFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wide", Usage: "print whole rows, however wide the terminal", DisableDefaultText: true}
}

// screenWidth is the width to fit a listing to: the terminal's, when out is one and --wide
// was not given; 0 (no limit) otherwise, so that pipes and files get whole rows.
func screenWidth(c *cli.Context, out io.Writer) int {
	f, ok := out.(*os.File)
	if !ok || c.Bool("wide") {
		return 0
	}
	return terminalWidth(f)
}
