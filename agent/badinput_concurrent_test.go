package agent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBadInputWhileOthersServed sends badInputs, notifications and multi-megabyte lines on
// several connections at once, while other clients make calls and new clients connect: every
// bad line gets its error (notifications none), and no good call fails or waits for them.
func TestBadInputWhileOthersServed(t *testing.T) {
	const (
		garbageConns  = 4
		garbageRounds = 5
		goodClients   = 6
		minGoodCalls  = 50
	)
	a := startAgent(t)
	base := takeBaseline(t)

	var garbageDone atomic.Bool
	var wg, garbageWG sync.WaitGroup
	for g := range garbageConns {
		garbageWG.Add(1)
		go func() {
			defer garbageWG.Done()
			if err := sendGarbage(a.Socket(), garbageRounds); err != nil {
				t.Errorf("garbage connection %d: %v", g, err)
			}
		}()
	}
	var goodCalls atomic.Int64
	for g := range goodClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialQuiet(a.Socket())
			if err != nil {
				t.Errorf("good client %d: %v", g, err)
				return
			}
			defer c.Close()
			ctx := t.Context()
			for n := 0; n < minGoodCalls || !garbageDone.Load(); n++ {
				var err error
				switch n % 3 {
				case 0:
					_, err = c.Version(ctx)
				case 1:
					_, err = c.Ps(ctx)
				case 2:
					_, err = c.Logs(ctx, rpcLogsAll)
				}
				if err != nil {
					t.Errorf("good client %d, call %d: %v", g, n, err)
					return
				}
				goodCalls.Add(1)
				if n%25 == 0 { // and a fresh connection now and then
					fresh, err := dialQuiet(a.Socket())
					if err != nil {
						t.Errorf("good client %d, fresh connection: %v", g, err)
						return
					}
					_, err = fresh.Version(ctx)
					fresh.Close()
					if err != nil {
						t.Errorf("good client %d, fresh connection: %v", g, err)
						return
					}
				}
			}
		}()
	}
	garbageWG.Wait()
	garbageDone.Store(true)
	wg.Wait()
	t.Logf("%d good calls while %d connections sent %d bad lines each", goodCalls.Load(), garbageConns, garbageRounds*(len(badInputs)+3))
	base.waitBack(t, "the garbage and the good calls")
}

// sendGarbage sends every badInput, a notification with an unknown method and one with a
// known one, rounds times over one connection, checking each reply as it goes.
func sendGarbage(socket string, rounds int) error {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 1<<16)
	for round := range rounds {
		for _, tt := range badInputs {
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write([]byte(tt.line + "\n")); err != nil {
				return fmt.Errorf("round %d, %s: writing: %v", round, tt.name, err)
			}
			var resp response
			if err := readResponse(r, &resp); err != nil {
				return fmt.Errorf("round %d, %s: %v", round, tt.name, err)
			}
			if resp.Error == nil || resp.Error.Code != tt.wantCode || !strings.Contains(resp.Error.Message, tt.wantMsg) || string(resp.ID) != tt.wantID {
				return fmt.Errorf("round %d: reply to %.60q = id %s error %+v, want id %s code %d", round, tt.line, resp.ID, resp.Error, tt.wantID, tt.wantCode)
			}
		}
		// Notifications get no reply: the next line is the answer to the call after them.
		notes := `{"jsonrpc":"2.0","method":"launch"}` + "\n" + `{"jsonrpc":"2.0","method":"ps"}` + "\n" +
			`{"jsonrpc":"2.0","id":"after","method":"version"}` + "\n"
		if _, err := c.Write([]byte(notes)); err != nil {
			return fmt.Errorf("round %d, notifications: writing: %v", round, err)
		}
		var resp response
		if err := readResponse(r, &resp); err != nil || string(resp.ID) != `"after"` || resp.Error != nil {
			return fmt.Errorf("round %d: after two notifications read %+v, %v; want the version reply", round, resp, err)
		}
	}
	return nil
}

func readResponse(r *bufio.Reader, resp *response) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading a reply: %v", err)
	}
	if err := json.Unmarshal(line, resp); err != nil {
		return fmt.Errorf("reply %q is not JSON: %v", line, err)
	}
	return nil
}
