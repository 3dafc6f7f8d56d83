package mysql

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/engine/wire/wiretest"
	vtmysql "vitess.io/vitess/go/mysql"
	"vitess.io/vitess/go/mysql/replication"
	"vitess.io/vitess/go/mysql/sqlerror"
	"vitess.io/vitess/go/sqltypes"
	querypb "vitess.io/vitess/go/vt/proto/query"
	"vitess.io/vitess/go/vt/vtenv"
)

// Debian ships no MySQL 8, and MariaDB has neither caching_sha2_password nor
// mysql_clear_password for a user, so these tests log in to Vitess's MySQL server
// (vitess.io/vitess/go/mysql): an implementation of the server's side of the protocol
// independent of this package and of MariaDB, used here as the test's server, and a test-only
// dependency. Vitess serves caching_sha2_password only over TLS or a Unix socket, where full
// authentication takes the password as it is; the RSA exchange that MySQL 8 makes over plain
// TCP is played by rsaSHA2, a plugin of this test's on Vitess's connection.

const vitessUsers = `{"alice": [{"Password": "alice-secret"}]}`

// TestOpenVitess logs go-sql-driver and the mariadb client, bringing no password, in through
// the door to servers whose user has caching_sha2_password (its fast path, its full
// authentication in clear over a Unix socket and with RSA over TCP) or mysql_clear_password.
func TestOpenVitess(t *testing.T) {
	staticSHA2 := vtmysql.NewAuthServerStaticWithAuthMethodDescription("", vitessUsers, 0, vtmysql.CachingSha2Password)
	static := vtmysql.NewAuthServerStaticWithAuthMethodDescription("", vitessUsers, 0, vtmysql.MysqlNativePassword)
	plain := &countingPlain{PlainTextStorage: static}
	sha2Full := authServer{greet: vtmysql.CachingSha2Password, method: vtmysql.NewSha2CachingAuthMethod(cacheMiss{}, plain, static)}
	rsaFull := newRSASHA2(t, "alice-secret")
	clear := vtmysql.NewAuthServerStaticWithAuthMethodDescription("", vitessUsers, 0, vtmysql.MysqlClearPassword)
	for _, tc := range []struct {
		name, network string
		auth          vtmysql.AuthServer
		check         func(t *testing.T)
	}{
		{"caching_sha2 fast, over a socket", "unix", staticSHA2, nil},
		{"caching_sha2 full in clear, over a socket", "unix", sha2Full, func(t *testing.T) {
			if n := plain.count(); n != 2 {
				t.Errorf("full authentications = %d, want 2 (one per client)", n)
			}
		}},
		{"caching_sha2 full with RSA, then fast, over TCP", "tcp", authServer{greet: vtmysql.CachingSha2Password, method: rsaFull}, func(t *testing.T) {
			if full, fast := rsaFull.count(); full != 1 || fast != 1 {
				t.Errorf("full authentications = %d, fast = %d; want 1 and 1", full, fast)
			}
		}},
		{"caching_sha2 after an auth switch", "tcp", authServer{greet: vtmysql.MysqlNativePassword, method: rsaFull}, nil},
		{"mysql_clear_password after an auth switch", "tcp", clear, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := vitessServer(t, tc.network, tc.auth)
			p := &wiretest.Passwords{Kept: "alice-secret"}
			d := wiretest.StartDoor(t, "tcp", Open, wiretest.DialTo(tc.network, addr), p.Login("alice", passwordCommand))
			if got, err := goUser(t, goDSN(d.Addr(), "someone", "", "")); err != nil || got != "alice" {
				t.Errorf("go-sql-driver with no password = %q, %v; want alice", got, err)
			}
			if out, err := mariadbClient(t, d.Addr(), "-u", "someone", "-e", "SELECT CURRENT_USER()"); err != nil || out != "alice" {
				t.Errorf("mariadb with no password = %q, %v; want alice", out, err)
			}
			if tc.check != nil {
				tc.check(t)
			}
			if version, err := checkLogin(t, tc.network, addr, p.Login("alice", passwordCommand)); err != nil || version != vitessVersion {
				t.Errorf("CheckLogin = %q, %v; want %q", version, err, vitessVersion)
			}
		})
	}

	t.Run("wrong password with RSA", func(t *testing.T) {
		m := newRSASHA2(t, "alice-secret")
		addr := vitessServer(t, "tcp", authServer{greet: vtmysql.CachingSha2Password, method: m})
		p := &wiretest.Passwords{Kept: "old", Fresh: "older"}
		d := wiretest.StartDoor(t, "tcp", Open, wiretest.DialTo("tcp", addr), p.Login("alice", passwordCommand))
		_, err := goUser(t, goDSN(d.Addr(), "alice", "", ""))
		var me *gomysql.MySQLError
		const want = "Access denied for user 'alice': rhizome logged in as alice with the password from password-command print-password, then with a fresh one"
		if !errors.As(err, &me) || me.Number != 1045 || me.Message != want {
			t.Errorf("go-sql-driver with a wrong password from the door: %v; want 1045 %q", err, want)
		}
		if all, fresh := p.Count(); all != 2 || fresh != 1 {
			t.Errorf("password command called %d times (%d fresh), want twice, once fresh", all, fresh)
		}
	})
}

// checkLogin runs CheckLogin on a new connection to address.
func checkLogin(t *testing.T, network, address string, l wire.Login) (string, error) {
	conn, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return CheckLogin(conn, l)
}

// goUser logs in with go-sql-driver/mysql at dsn and returns CURRENT_USER().
func goUser(t testing.TB, dsn string) (string, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var user string
	err = db.QueryRowContext(t.Context(), "SELECT CURRENT_USER()").Scan(&user)
	return user, err
}

// vitessVersion is the version the Vitess server announces.
var vitessVersion = vtenv.NewTestEnv().MySQLVersion()

// vitessServer serves auth on a loopback port or, for network "unix", a socket, with Vitess's
// server, until the test ends. It takes clear-text passwords without TLS.
func vitessServer(t testing.TB, network string, auth vtmysql.AuthServer) string {
	t.Helper()
	ln := wiretest.Listen(t, network)
	l, err := vtmysql.NewListenerWithConfig(vtmysql.ListenerConfig{
		Listener: ln, AuthServer: auth, Handler: userHandler{}, ConnReadBufferSize: 16 << 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	l.AllowClearTextWithoutTLS.Store(true)
	done := make(chan struct{})
	go func() { l.Accept(); close(done) }()
	t.Cleanup(func() { l.Close(); <-done })
	return ln.Addr().String()
}

// userHandler answers every query with the session's user.
type userHandler struct{ vtmysql.UnimplementedHandler }

func (userHandler) ComQuery(c *vtmysql.Conn, _ string, callback func(*sqltypes.Result) error) error {
	return callback(sqltypes.MakeTestResult(sqltypes.MakeTestFields("user", "varchar"), c.User))
}
func (userHandler) ComQueryMulti(c *vtmysql.Conn, sql string, callback func(sqltypes.QueryResponse, bool, bool) error) error {
	return errors.New("not served")
}
func (userHandler) ComPrepare(*vtmysql.Conn, string) ([]*querypb.Field, uint16, error) {
	return nil, 0, errors.New("not served")
}
func (userHandler) ComStmtExecute(*vtmysql.Conn, *vtmysql.PrepareData, func(*sqltypes.Result) error) error {
	return errors.New("not served")
}
func (userHandler) ComRegisterReplica(*vtmysql.Conn, string, uint16, string, string) error {
	return errors.New("not served")
}
func (userHandler) ComBinlogDump(*vtmysql.Conn, string, uint32) error {
	return errors.New("not served")
}
func (userHandler) ComBinlogDumpGTID(*vtmysql.Conn, string, uint64, replication.GTIDSet, uint16) error {
	return errors.New("not served")
}
func (userHandler) WarningCount(*vtmysql.Conn) uint16 { return 0 }
func (userHandler) Env() *vtenv.Environment           { return vtenv.NewTestEnv() }

// authServer offers one method, naming greet in its greeting: when greet is another
// method, the client's first answer is switched to method.
type authServer struct {
	greet  vtmysql.AuthMethodDescription
	method vtmysql.AuthMethod
}

func (a authServer) AuthMethods() []vtmysql.AuthMethod { return []vtmysql.AuthMethod{a.method} }
func (a authServer) DefaultAuthMethodDescription() vtmysql.AuthMethodDescription {
	return a.greet
}

// cacheMiss is a caching_sha2_password cache that never knows the user, so that each login
// takes the full authentication.
type cacheMiss struct{}

func (cacheMiss) UserEntryWithCacheHash(*vtmysql.Conn, []byte, string, []byte, net.Addr) (vtmysql.Getter, vtmysql.CacheState, error) {
	return nil, vtmysql.AuthNeedMoreData, nil
}

// countingPlain counts the checks of a password sent as it is.
type countingPlain struct {
	vtmysql.PlainTextStorage
	mu sync.Mutex
	n  int
}

func (c *countingPlain) UserEntryWithPassword(conn *vtmysql.Conn, user, password string, addr net.Addr) (vtmysql.Getter, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.PlainTextStorage.UserEntryWithPassword(conn, user, password, addr)
}

func (c *countingPlain) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// rsaSHA2 is caching_sha2_password as MySQL 8 serves it over TCP without TLS, for alice with
// password: the fast path once its cache knows her, else full authentication, in which the
// client asks for the server's RSA public key (0x02) and sends (password + NUL) XOR the
// scramble, encrypted with RSA-OAEP and SHA-1. It plays the plugin on Vitess's connection.
type rsaSHA2 struct {
	key      *rsa.PrivateKey
	pem      []byte
	password string
	mu       sync.Mutex
	cached   bool
	full     int
	fast     int
}

func newRSASHA2(t testing.TB, password string) *rsaSHA2 {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &rsaSHA2{key: key, password: password, pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}
}

func (m *rsaSHA2) count() (full, fast int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.full, m.fast
}

func (m *rsaSHA2) Name() vtmysql.AuthMethodDescription   { return vtmysql.CachingSha2Password }
func (m *rsaSHA2) HandleUser(*vtmysql.Conn, string) bool { return true }
func (m *rsaSHA2) AllowClearTextWithoutTLS() bool        { return true }
func (m *rsaSHA2) AuthPluginData() ([]byte, error) {
	salt := make([]byte, scrambleLength)
	_, _ = rand.Read(salt)
	for i, b := range salt { // printable, no NUL, as MySQL's
		salt[i] = b&0x3f + 0x30
	}
	return append(salt, 0), nil
}

func (m *rsaSHA2) HandleAuthPluginData(c *vtmysql.Conn, user string, serverData, clientData []byte, _ net.Addr) (vtmysql.Getter, error) {
	denied := sqlerror.NewSQLErrorf(sqlerror.ERAccessDeniedError, sqlerror.SSAccessDeniedError, "Access denied for user '%v'", user)
	salt := serverData[:len(serverData)-1]
	m.mu.Lock()
	defer m.mu.Unlock()
	if user != "alice" {
		return nil, denied
	}
	if m.cached {
		if !bytes.Equal(clientData, vtmysql.ScrambleCachingSha2Password(salt, []byte(m.password))) {
			return nil, denied
		}
		m.fast++
		return &vtmysql.StaticUserData{}, vtWrite(c, packetMoreData, sha2FastAuthOK)
	}
	if err := vtWrite(c, packetMoreData, sha2FullAuth); err != nil {
		return nil, err
	}
	if p, err := c.ReadPacket(); err != nil || !bytes.Equal(p, []byte{sha2RequestKey}) {
		return nil, errors.Join(err, errors.New("the client did not ask for the public key"))
	}
	if err := vtWrite(c, append([]byte{packetMoreData}, m.pem...)...); err != nil {
		return nil, err
	}
	enc, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	plain, err := rsa.DecryptOAEP(sha1.New(), nil, m.key, enc, nil)
	if err != nil {
		return nil, denied
	}
	for i := range plain {
		plain[i] ^= salt[i%len(salt)]
	}
	if string(plain) != m.password+"\x00" {
		return nil, denied
	}
	m.full++
	m.cached = true
	return &vtmysql.StaticUserData{}, nil
}

// vtWrite sends payload as the connection's next packet: Vitess's WritePacket takes the
// payload after room for the header.
func vtWrite(c *vtmysql.Conn, payload ...byte) error {
	return c.WritePacket(append(make([]byte, vtmysql.PacketHeaderSize), payload...))
}
