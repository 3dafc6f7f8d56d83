package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// checkDatabase is the database CheckLogin logs in to. "postgres" is made by initdb in every
// cluster and kept by the managed services (Cloud SQL, RDS, Azure), and pg_hba.conf's usual
// "all" matches it, while the database named like the user, a client's default, often does
// not exist. A login that works against it works: PostgreSQL checks the password before it
// looks for the database.
const checkDatabase = "postgres"

// CheckLogin logs l.User in on conn with l's kept password and says goodbye with a Terminate,
// so that the server logs no failed or aborted connection: the end-to-end check of a forward
// with a login. It returns what the server says of itself ("PostgreSQL 15.18 …, logged in as
// app").
//
// The check is of the login: an error after AuthenticationOk (no database "postgres", no
// CONNECT privilege on it) means the password worked, and CheckLogin says so with the
// server's words in its description rather than fail. A login with no user cannot be checked:
// which user the clients will name is theirs to say. conn's deadline, which the caller sets,
// bounds the check; so does l.Password's own.
func CheckLogin(conn net.Conn, l wire.Login) (string, error) {
	if l.User == "" {
		return "", errors.New("postgres: a login check needs the login's user")
	}
	startup := appendStartup(nil, "user", l.User, "database", checkDatabase, "application_name", "rhizome")
	if _, err := conn.Write(startup); err != nil {
		return "", fmt.Errorf("%w: sending the PostgreSQL startup: %v", wire.ErrNoGreeting, err)
	}
	a := &authenticator{conn: conn, user: l.User,
		password: func() (string, error) { return l.Password(context.Background(), false) }}
	if err := a.run(); err != nil {
		return "", fmt.Errorf("logging in as %q: %w", l.User, err)
	}
	// The session's opening after AuthenticationOk: ParameterStatus messages (server_version
	// among them), BackendKeyData, then ReadyForQuery.
	version := ""
	for {
		m, err := readMessage(conn)
		if err != nil {
			return "", fmt.Errorf("logged in as %q, then: %w", l.User, err)
		}
		switch m.typ {
		case msgParameterStatus:
			if k, v, ok := parameterStatus(m.body); ok && k == "server_version" {
				version = v
			}
		case msgErrorResponse:
			// The server has closed the session already: nothing to say goodbye to.
			fs, _ := parseFields(m.body)
			return fmt.Sprintf("PostgreSQL, logged in as %s (then: %s)", l.User, fs.get('M')), nil
		case msgReadyForQuery:
			if _, err := conn.Write(appendMessage(nil, msgTerminate, nil)); err != nil {
				return "", fmt.Errorf("saying goodbye: %w", err)
			}
			return fmt.Sprintf("PostgreSQL %s, logged in as %s", version, l.User), nil
		}
	}
}

// parameterStatus splits a ParameterStatus body: a name and a value, each NUL-terminated.
func parameterStatus(body []byte) (name, value string, ok bool) {
	k := bytes.IndexByte(body, 0)
	if k < 0 {
		return "", "", false
	}
	v := bytes.IndexByte(body[k+1:], 0)
	if v < 0 {
		return "", "", false
	}
	return string(body[:k]), string(body[k+1 : k+1+v]), true
}
