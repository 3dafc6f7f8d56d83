package e2e_test

import (
	"bufio"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine"
)

// BenchmarkProbe measures one readiness/health probe per engine, straight to the database and
// through a forward (the port-forward, the pod's proxy): MySQL's greeting, PostgreSQL's answer
// to an SSLRequest. Keep the count low: a MySQL probe through KWOK's port-forward holds its
// server connection a while after it closes, and a few hundred in a row exceed MariaDB's
// max_connections (a health check every 10 s never comes near).
//
//	go test -run '^$' -bench Probe -benchtime 50x ./forward/e2e/
func BenchmarkProbe(b *testing.B) {
	u := newUser(b, 33406)
	u.addLedger(33432)
	mysqlHandle, pgHandle := u.mustForward(), ""
	if out, stderr, err := u.rhizome("forward", "na-prod", "ledger"); err != nil {
		b.Fatalf("forward na-prod ledger = %q, %v: %s", out, err, stderr)
	} else {
		pgHandle = out
	}
	for _, bb := range []struct {
		name  string
		probe engine.Probe
		addr  string
	}{
		{"mysql-direct", engine.CheckGreeting, cluster.MySQL.Addr},
		{"mysql-forward", engine.CheckGreeting, "127.0.0.1:" + portOf(mysqlHandle)},
		{"postgres-direct", engine.CheckPostgres, cluster.Postgres.Addr},
		{"postgres-forward", engine.CheckPostgres, "127.0.0.1:" + portOf(pgHandle)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if got, err := bb.probe(b.Context(), bb.addr); err != nil {
					b.Fatalf("probe %s = %q, %v", bb.addr, got, err)
				}
			}
		})
	}
}

// bigResult is about 100 MB of rows, made by MariaDB's sequence engine: no table needed.
const (
	bigResultRows  = 100000
	bigResultQuery = "SELECT REPEAT('x', 1000) FROM seq_1_to_100000"
)

// BenchmarkThroughput reads a 100 MB result set with the real mariadb client through a
// forward's handle (front door → kubectl port-forward) and through a bare kubectl
// port-forward of the same pod port, alternating in each iteration, and reports the median
// MB/s of each and their ratio.
//
//	go test -run '^$' -bench Throughput -benchtime 10x ./forward/e2e/
func BenchmarkThroughput(b *testing.B) {
	u := newUser(b, 33416, "RHIZOME_HEALTH_INTERVAL=10s") // the default, not the tests' 1 s
	door := portOf(u.mustForward())
	bare := bareKubectlPortForward(b)
	var viaDoor, viaBare []float64
	for b.Loop() {
		viaDoor = append(viaDoor, readBig(b, door))
		viaBare = append(viaBare, readBig(b, bare))
	}
	d, k := median(viaDoor), median(viaBare)
	b.ReportMetric(d, "front-door-MB/s")
	b.ReportMetric(k, "bare-kubectl-MB/s")
	b.ReportMetric(d/k, "ratio")
}

// readBig reads the big result set through port and returns the MB/s.
func readBig(b *testing.B, port string) float64 {
	cmd := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "-h", "127.0.0.1", "-P", port,
		"-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, cluster.MySQL.Database, "-N", "-B", "-e", bigResultQuery)
	var n countingWriter
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &n, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil || n < bigResultRows*1001 {
		b.Fatalf("mariadb read %d bytes: %v: %s", n, err, stderr.String())
	}
	return float64(n) / 1e6 / time.Since(start).Seconds()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// bareKubectlPortForward runs kubectl port-forward to the pod's proxy port, as a person would
// by hand, and returns the local port it picked.
func bareKubectlPortForward(b *testing.B) string {
	return startBare(b, kubectl("port-forward", "--address", "127.0.0.1", "deploy/"+cluster.Deployment, ":3307"))
}

// startBare starts cmd, a kubectl port-forward, and returns the local port its banner names;
// it is killed when the benchmark ends.
func startBare(b *testing.B, cmd *exec.Cmd) string {
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) `).FindStringSubmatch(line)
	if err != nil || m == nil {
		b.Fatalf("kubectl printed %q, %v", line, err)
	}
	go io.Copy(io.Discard, out) // "Handling connection" lines
	return m[1]
}
