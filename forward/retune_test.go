package forward

import (
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/door"
)

// TestRetuneSaysWhatItCannotChange: a live forward's connection command and pod port stay as
// they were, and the note says so and how to change them.
func TestRetuneSaysWhatItCannotChange(t *testing.T) {
	e := &entry{door: &door.Door{}, start: time.Now(), req: Request{Name: "env/db", ConnectCommand: []string{"/bin/a"}},
		life: &lifetime{active: func() int { return 0 }, end: func(string, string) {}}}
	notes := e.retune(Request{Name: "env/db", ConnectCommand: []string{"/bin/b"}, PodPort: 5432})
	all := strings.Join(notes, "\n")
	for _, want := range []string{"connect-command [/bin/b] not applied: the live forward uses [/bin/a]; rhizome stop env/db", "pod-port 5432 not applied"} {
		if !strings.Contains(all, want) {
			t.Errorf("retune notes:\n%s\nwant %q", all, want)
		}
	}
	if e.req.PodPort != 0 || e.req.ConnectCommand[0] != "/bin/a" {
		t.Errorf("retune changed what it cannot: %+v", e.req)
	}
}
