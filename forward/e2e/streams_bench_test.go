package e2e_test

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkConnectionSetup: from a client's connect to the database's first byte, through a
// forward's handle and through a bare kubectl port-forward of the same pod port, alternating;
// reports p50 and p99 of each and the ratio of the p50s. Each iteration is one connection
// each way.
//
//	go test -run '^$' -bench ConnectionSetup -benchtime 200x ./forward/e2e/
func BenchmarkConnectionSetup(b *testing.B) {
	u := newUser(b, 33656, "RHIZOME_HEALTH_INTERVAL=10s")
	door := portOf(u.mustForward())
	bare := bareKubectlPortForward(b)
	viaDoor, viaBare := alternate(b, func() time.Duration { return firstByte(b, door) }, func() time.Duration { return firstByte(b, bare) })
	d50, k50 := percentile(viaDoor, 50), percentile(viaBare, 50)
	b.ReportMetric(d50.Seconds()*1e3, "front-door-p50-ms")
	b.ReportMetric(percentile(viaDoor, 99).Seconds()*1e3, "front-door-p99-ms")
	b.ReportMetric(k50.Seconds()*1e3, "bare-kubectl-p50-ms")
	b.ReportMetric(percentile(viaBare, 99).Seconds()*1e3, "bare-kubectl-p99-ms")
	b.ReportMetric(float64(d50)/float64(k50), "p50-ratio")
}

// firstByte connects to port and returns how long until the server's first byte came.
func firstByte(b *testing.B, port string) time.Duration {
	start := time.Now()
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		b.Fatalf("first byte through port %s: %v", port, err)
	}
	return time.Since(start)
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// BenchmarkMemory20Forwards: the resident memory of the agent and all its children (one
// kubectl proxy) with 20 ready forwards to one context, against 20 bare kubectl port-forwards
// of the same pod port. The forwards name the pod port (pod-port), each its own instance.
//
//	go test -run '^$' -bench Memory20 -benchtime 1x ./forward/e2e/
func BenchmarkMemory20Forwards(b *testing.B) {
	const n = 20
	if out, err := kubectl("exec", "deploy/"+cluster.Deployment, "--", cluster.ConnectCommand, cluster.Instance).CombinedOutput(); err != nil {
		b.Fatalf("starting the in-pod proxy: %v: %s", err, out)
	}
	u := newUser(b, 33666)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "environment many\n    context %s\n    namespace %s\n    deployment %s\n", cluster.Context, cluster.Namespace, cluster.Deployment)
	for i := range n {
		fmt.Fprintf(&cfg, "    database db%02d\n        instance proj:region:inst%02d\n        port %d\n        pod-port %d\n", i, i, 33670+i, cluster.PodPort)
	}
	u.addConfig(cfg.String())
	for b.Loop() {
		for i := range n {
			if out, stderr, err := u.rhizome("forward", "many", fmt.Sprintf("db%02d", i)); err != nil {
				b.Fatalf("forward many db%02d = %q, %v: %s", i, out, err, stderr)
			}
		}
		agent := rssKiB(b, processTree(b, u.agentPID()))
		var bare []int
		for range n {
			bare = append(bare, bareKubectlPID(b))
		}
		time.Sleep(time.Second) // kubectl's lazy start-up work done
		kubectls := rssKiB(b, bare)
		b.ReportMetric(float64(agent)/1024, "rhizome-MiB")
		b.ReportMetric(float64(kubectls)/1024, "bare-kubectl-MiB")
		b.ReportMetric(float64(agent)/float64(kubectls), "ratio")
	}
}

// rssKiB adds up the resident memory of pids.
func rssKiB(b *testing.B, pids []int) int {
	total := 0
	for _, pid := range pids {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			b.Fatal(err)
		}
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kib, _ := strconv.Atoi(strings.Fields(v)[0])
				total += kib
			}
		}
	}
	return total
}

// bareKubectlPID starts a bare kubectl port-forward, waits until a client got the greeting
// through it, and returns its pid; it is killed when the benchmark ends.
func bareKubectlPID(b *testing.B) int {
	cmd := kubectl("port-forward", "--address", "127.0.0.1", "deploy/"+cluster.Deployment, ":"+strconv.Itoa(cluster.PodPort))
	port := startBare(b, cmd)
	greetAt(b, port)
	return cmd.Process.Pid
}
