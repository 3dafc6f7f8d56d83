package e2e_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// BenchmarkLoginSetup: a new MySQL session (connect, handshake, login, OK) through a forward's
// handle, logged in by the door with a kept password against the same client logging in with
// its own password, alternating on one forward; reports the p50 of each and their difference.
// go-sql-driver is the client, so no process start is timed.
//
//	go test -run '^$' -bench LoginSetup -benchtime 200x ./forward/e2e/
func BenchmarkLoginSetup(b *testing.B) {
	pw, _ := passwordScript(b, "echo "+cluster.MySQL.Password)
	u := newUser(b, 33796, "RHIZOME_HEALTH_INTERVAL=10s")
	u.addLogins(33797, 33798, pw, pw)
	addr := fmt.Sprintf("127.0.0.1:%d", u.handleOf("na-prod", "books").LocalPort)
	byDoor := connector(b, addr, "")
	own := connector(b, addr, cluster.MySQL.Password)
	viaDoor, viaOwn := alternate(b, func() time.Duration { return session(b, byDoor) }, func() time.Duration { return session(b, own) })
	d50, o50 := percentile(viaDoor, 50), percentile(viaOwn, 50)
	b.ReportMetric(d50.Seconds()*1e3, "door-login-p50-ms")
	b.ReportMetric(o50.Seconds()*1e3, "own-password-p50-ms")
	b.ReportMetric((d50-o50).Seconds()*1e3, "p50-added-ms")
}

// connector is go-sql-driver's connector for the cluster's user at addr, with password ("" for
// none: the door logs in).
func connector(b *testing.B, addr, password string) driver.Connector {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "tcp", addr, cluster.MySQL.User, password, cluster.MySQL.Database
	cfg.AllowNativePasswords = true
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// session opens one session with c and closes it, returning how long the opening took.
func session(b *testing.B, c driver.Connector) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := c.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	conn.Close()
	return took
}
