package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine"
)

// The chain's speed, each against what a person would do by hand with kubectl, measured the
// same way in the same run: both sides of a comparison run once per round, in an order that
// alternates, and each reports the time until a client at the local port got the database's
// greeting. Each iteration of b.Loop is one round; the metrics are medians over the rounds
// (ratio: the median of each round's own ratio), so ns/op, a round's time, means little.
//
//	go test -run '^$' -bench 'ColdForward|FirstForward|ProxyDies|PodReplaced' -benchtime 10x ./forward/e2e/

// BenchmarkColdForward: `rhizome forward` with the proxy already running in the pod and the
// agent up (the forward stopped between rounds) against a bare `kubectl port-forward`.
func BenchmarkColdForward(b *testing.B) {
	u := newUser(b, 33536)
	greetAt(b, portOf(u.mustForward())) // the agent learns the pod port, as any first use does
	u.rhizome("stop", "na-prod/bookkeeper")
	sideBySide(b, "rhizome", func() time.Duration {
		d := timeForward(b, u)
		u.rhizome("stop", "na-prod/bookkeeper")
		return d
	}, "kubectl", func() time.Duration {
		start := time.Now()
		stop := bareGreeting(b, fmt.Sprint(cluster.PodPort))
		d := time.Since(start)
		stop()
		return d
	})
}

// BenchmarkFirstForward: the first forward ever (no remembered port, a new agent) with the
// proxy not running, so the connection script starts it, against a person running that script
// with `kubectl exec`, reading the port it names and running `kubectl port-forward` to it.
func BenchmarkFirstForward(b *testing.B) {
	u := newUser(b, 33546)
	announced := regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	sideBySide(b, "rhizome", func() time.Duration {
		u.rhizome("agent", "-k")
		os.Remove(u.podPortsFile())
		u.agentPID() // started before the clock: a first forward asks a running agent
		stopProxies(b)
		d := timeForward(b, u)
		u.rhizome("stop", "na-prod/bookkeeper")
		return d
	}, "kubectl", func() time.Duration {
		stopProxies(b)
		start := time.Now()
		out, err := kubectl("exec", "deploy/"+cluster.Deployment, "--", cluster.ConnectCommand, cluster.Instance).Output()
		m := announced.FindSubmatch(out)
		if err != nil || m == nil {
			b.Fatalf("kubectl exec connect = %q, %v", out, err)
		}
		stop := bareGreeting(b, string(m[1]))
		d := time.Since(start)
		stop()
		return d
	})
}

// BenchmarkProxyDies: how long after the in-pod proxy dies (the pod stays) the same handle
// gives a client the greeting again, with a health check every 2 s. The client tries every
// 50 ms, each try a new connection, as someone retrying would.
func BenchmarkProxyDies(b *testing.B) {
	u := newUser(b, 33556, "RHIZOME_HEALTH_INTERVAL=2s")
	port := portOf(u.mustForward())
	recovery(b, "recovered", func() {
		greetAt(b, port)
		time.Sleep(time.Duration(rand.Int64N(int64(2 * time.Second)))) // any phase of the health interval
		stopProxies(b)
	}, port)
}

// BenchmarkProxyDiesUntouched: as BenchmarkProxyDies, but nobody uses the handle while the
// proxy is down, and nothing notices: the health check pings the session, never the database.
// Timed from the next client's connect until it got the greeting, in one try: the door holds
// it while the chain reconnects (the pod refused its stream) and replays it.
func BenchmarkProxyDiesUntouched(b *testing.B) {
	u := newUser(b, 33586, "RHIZOME_HEALTH_INTERVAL=2s")
	port := portOf(u.mustForward())
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		greetAt(b, port)
		stopProxies(b)
		time.Sleep(time.Duration(rand.Int64N(int64(2 * time.Second)))) // idle, a health check or so
		b.StartTimer()
		start := time.Now()
		ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
		_, err := engine.CheckGreeting(ctx, "127.0.0.1:"+port)
		cancel()
		if err != nil {
			b.Fatalf("the first client after the proxy died while idle: %v", err)
		}
		took = append(took, time.Since(start))
	}
	b.ReportMetric(medianDuration(took).Seconds()*1e3, "recovered-ms")
	b.ReportMetric(slices.Max(took).Seconds()*1e3, "recovered-max-ms")
}

// BenchmarkPodReplaced: how long after the replacing pod is Running the same handle gives a
// client the greeting again.
func BenchmarkPodReplaced(b *testing.B) {
	u := newUser(b, 33566)
	port := portOf(u.mustForward())
	recovery(b, "recovered", func() {
		greetAt(b, port)
		if err := cluster.ReplacePod(b.Context()); err != nil { // returns once the new pod is Running
			b.Fatal(err)
		}
	}, port)
}

// recovery runs fault, then times until a client at port gets a greeting, each round.
func recovery(b *testing.B, what string, fault func(), port string) {
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		fault()
		b.StartTimer()
		start := time.Now()
		for {
			ctx, cancel := context.WithTimeout(b.Context(), time.Second)
			_, err := engine.CheckGreeting(ctx, "127.0.0.1:"+port)
			cancel()
			if err == nil {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatalf("no greeting at port %s a minute after the fault: %v", port, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	b.ReportMetric(medianDuration(took).Seconds()*1e3, what+"-ms")
	b.ReportMetric(slices.Max(took).Seconds()*1e3, what+"-max-ms")
}

// sideBySide runs a and c once per round, alternating which goes first, and reports the median
// of each and the median of the rounds' ratios a/c.
func sideBySide(b *testing.B, aName string, a func() time.Duration, cName string, c func() time.Duration) {
	as, cs := alternate(b, a, c)
	var ratios []float64
	for i := range as {
		ratios = append(ratios, float64(as[i])/float64(cs[i]))
	}
	b.ReportMetric(medianDuration(as).Seconds()*1e3, aName+"-ms")
	b.ReportMetric(medianDuration(cs).Seconds()*1e3, cName+"-ms")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio")
}

// alternate runs a and c once per round of b.Loop, alternating which goes first, so that a
// load that comes and goes weighs on both alike, and returns each one's times.
func alternate(b *testing.B, a, c func() time.Duration) (as, cs []time.Duration) {
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			as, cs = append(as, a()), append(cs, c())
		} else {
			cs, as = append(cs, c()), append(as, a())
		}
	}
	return as, cs
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// timeForward times `rhizome forward` until a client at the handle it printed got a greeting.
func timeForward(b *testing.B, u *user) time.Duration {
	start := time.Now()
	out, stderr, err := u.rhizome("forward", "na-prod", "bookkeeper")
	if err != nil {
		b.Fatalf("forward = %q, %v: %s", out, err, stderr)
	}
	greetAt(b, portOf(out))
	return time.Since(start)
}

func greetAt(b *testing.B, port string) {
	if _, err := engine.CheckGreeting(b.Context(), "127.0.0.1:"+port); err != nil {
		b.Fatalf("no greeting at port %s: %v", port, err)
	}
}

func stopProxies(b *testing.B) {
	if err := cluster.StopProxies(); err != nil {
		b.Fatal(err)
	}
}

func kubectl(args ...string) *exec.Cmd {
	cmd := exec.Command("kubectl", append([]string{"--context", cluster.Context, "-n", cluster.Namespace}, args...)...)
	cmd.Env = append(cmd.Environ(), cluster.Env()...)
	return cmd
}

// bareGreeting runs `kubectl port-forward` to podPort as a person would and returns once a
// client got the greeting through it; the returned func ends the port-forward.
func bareGreeting(b *testing.B, podPort string) (stop func()) {
	cmd := kubectl("port-forward", "--address", "127.0.0.1", "deploy/"+cluster.Deployment, ":"+podPort)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) `).FindStringSubmatch(line)
	if err != nil || m == nil {
		stop()
		b.Fatalf("kubectl printed %q, %v", line, err)
	}
	greetAt(b, m[1])
	return stop
}
