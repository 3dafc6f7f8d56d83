package door

import (
	"errors"
	"os"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// ErrPortInUse means the forward's port is taken (by another program, or another forward)
// and the request pinned it, or every port near it is taken too.
var ErrPortInUse = errors.New("forward: local port in use")

// Config says where a door listens.
type Config struct {
	Port   int            // the port asked for; the next free one when busy, unless Pinned
	Pinned bool           // a busy Port is an error (ErrPortInUse)
	Held   func(int) bool // reports ports another forward holds; nil: none
	Engine env.Engine     // whose clients the socket is named for (see env.Engine.SocketPath)
	// SocketDir is where the private socket goes (made 0700 if missing); "" makes none.
	SocketDir string
	Name, ID  string // the socket's name, and what names it when Name cannot (see listenUnix)
	// ConnectWait bounds how long a connection waits for a back end that is down.
	ConnectWait time.Duration
	// Wire is the engine's wire: the door answers clients it cannot serve in its protocol, and
	// logs them in with Login.
	Wire engine.Wire
	// Login is the login the door makes for the owner's verified connections that bring no
	// password; nil: none (see SetLogin).
	Login *wire.Login
}

// Open binds the door's port and its socket. A socket that cannot be made is no failure: the
// port works all the same, and UnixErr says why there is none.
func Open(cfg Config) (*Door, error) {
	ls, port, err := listenTCP(cfg.Port, cfg.Pinned, cfg.Held)
	if err != nil {
		return nil, err
	}
	d := &Door{port: port, listeners: ls, owner: os.Getuid()}
	d.connectWait.Store(int64(cfg.ConnectWait))
	d.wire = cfg.Wire
	d.login.Store(cfg.Login)
	d.init()
	if cfg.SocketDir != "" {
		ul, path, err := listenUnix(cfg.SocketDir, cfg.Engine, cfg.Name, cfg.ID, port)
		if err != nil {
			d.unixErr = err
		} else {
			d.listeners = append(d.listeners, ul)
			d.unixPath = path
		}
	}
	return d, nil
}
