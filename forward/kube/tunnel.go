package kube

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// tunnel is a net.Conn over a WebSocket connection that carries a byte stream in binary
// messages, each Write one message: how SPDY travels in WebSocket (KEP-4006).
type tunnel struct {
	ws *websocket.Conn
	r  io.Reader // the current message, nil between messages; only Read touches it
	wm sync.Mutex
}

func newTunnel(ws *websocket.Conn) *tunnel { return &tunnel{ws: ws} }

func (t *tunnel) Read(p []byte) (int, error) {
	for {
		if t.r == nil {
			typ, r, err := t.ws.NextReader()
			if err != nil {
				if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				continue
			}
			t.r = r
		}
		n, err := t.r.Read(p)
		if err == io.EOF {
			t.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (t *tunnel) Write(p []byte) (int, error) {
	t.wm.Lock()
	defer t.wm.Unlock()
	if err := t.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (t *tunnel) Close() error                       { return t.ws.Close() }
func (t *tunnel) LocalAddr() net.Addr                { return t.ws.LocalAddr() }
func (t *tunnel) RemoteAddr() net.Addr               { return t.ws.RemoteAddr() }
func (t *tunnel) SetDeadline(d time.Time) error      { return t.ws.NetConn().SetDeadline(d) }
func (t *tunnel) SetReadDeadline(d time.Time) error  { return t.ws.SetReadDeadline(d) }
func (t *tunnel) SetWriteDeadline(d time.Time) error { return t.ws.SetWriteDeadline(d) }
