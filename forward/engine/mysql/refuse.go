package mysql

import (
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// errCantConnect is the error number of the door's refusals: CR_CONN_HOST_ERROR, "Can't
// connect to MySQL server", which is what the client would have said had it tried the server
// itself and failed, and what MySQL Router answers in the same place when it has no server
// to route to. Scripts that treat 2003 as "the server is down" do the right thing. It is
// neither 1045 (access denied: tools would ask for a password that would not help) nor
// 2013/2006 (lost connection: clients treat those as a dropped session and reconnect at once).
// MySQL has no number for "someone must act" as against "wait": wire.Refusal.Transient shows
// in the words and hint only.
const errCantConnect = 2003

// Refuse answers a client, in place of the server's greeting, with an ERR packet (sequence 0)
// carrying r's message and hint. MySQL's server speaks first, so there is nothing to read.
//
// The ERR carries no '#'+SQLSTATE: a server sends one only to a client that said it speaks
// protocol 4.1, and before the greeting no client has said anything. libmariadb and
// go-sql-driver/mysql would strip a '#' marker anyway, but Oracle's libmysqlclient looks for it
// only once the server's capabilities say 4.1, so it would print "#08001rhizome: …"; without
// it every client prints the message as it is, with the SQLSTATE it assumes, HY000 (the
// mariadb client: "ERROR 2003 (HY000): rhizome: …").
func Refuse(conn net.Conn, r wire.Refusal) error {
	return writePacket(conn, 0, appendErr(nil, errCantConnect, "", r.Text()))
}
