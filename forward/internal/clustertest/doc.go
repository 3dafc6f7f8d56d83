// Package clustertest starts a real Kubernetes control plane for tests, in the spirit of
// net/http/httptest: etcd, kube-apiserver and KWOK (a simulated kubelet) on free loopback ports,
// plus a MariaDB and a PostgreSQL server, laid out like rhizome's built-in environment so that
// the real kubectl can exec, read logs and port-forward against it.
//
// The binaries come from scripts/kube-tools, which builds them into a cache once. A test
// package starts one Cluster in TestMain and shares it:
//
//	func TestMain(m *testing.M) {
//		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
//		c, err := clustertest.Start(ctx, clustertest.Options{})
//		cancel()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		cluster = c
//		code := m.Run()
//		c.Close()
//		os.Exit(code)
//	}
//
// and runs kubectl with c.Env() appended to its environment. Tests that inject faults
// (ReplacePod, BreakTarget, StopKWOK) change the shared cluster, so they should not run in
// parallel with tests that use it, and should undo the fault before they return.
//
// # The pod
//
// The Deployment's pod runs nothing: KWOK marks it Running and serves its exec, logs and
// port-forward from this machine. Commands given to kubectl exec run on the host, in the folder
// pod under Cluster.Dir. Cluster.ConnectCommand is a script that behaves like the environment's
// connection script starting Cloud SQL Auth Proxy v2: for Cluster.Instance it makes pod port
// Cluster.PodPort lead to MariaDB and appends the proxy's start-up lines, among them
//
//	2026/11/26 14:00:00 [clover-prod-databases:us-central1:billing-bookkeeper] Listening on 127.0.0.1:3307
//
// to the pod's log (in the container runtime's format, which kubectl logs strips). Run again, it
// starts nothing and logs nothing; for an unknown instance it fails. The "proxy" is a TCP relay
// inside the test process that started the Cluster (the script asks for it over a loopback
// control port), so it can leave nothing running behind. KWOK forwards pod port PodPort to the
// relay's port on the host, which is a different, free port: only a port-forward reaches the
// relay through the port the log names.
//
// The same script knows a PostgreSQL instance, Cluster.PGInstance: its proxy announces pod port
// Cluster.PGPodPort (5432), which leads to the PostgreSQL server at Cluster.Postgres (Debian's
// postgresql; as root it runs as the postgres user, with trust authentication on loopback).
//
// # Faults
//
// ReplacePod deletes the pod and starts another (empty log, no proxy until the next connect).
// BreakTarget makes the relay refuse connections until RestoreTarget. StopKWOK and StartKWOK take
// the simulated kubelet away and back. After ReplacePod or StopKWOK, a kubectl port-forward that
// was open reports "lost connection to pod" and exits: at once over SPDY, after about 10 s over
// WebSockets (kubectl's default), when its heartbeat notices.
//
// # Lifetime
//
// Every process a Cluster starts gets its own process group and is killed when the test process
// dies, even by SIGKILL (Linux Pdeathsig). Close stops them and removes the work folder; work
// folders left by a crashed test are removed by the next Start. Between Start and Close the
// Cluster runs goroutines of its own (and one per relayed connection): a goroutine-leak check
// belongs after Close, or must ignore them.
//
// # Finding the binaries
//
// Options.BinDir, else $RHIZOME_KUBE_BIN, else .cache/kube/<versions>/bin under the repository
// root found above the working directory, with the versions read from scripts/kube-versions.
// When they are missing, Start fails with ErrToolsMissing and a message naming scripts/kube-tools.
package clustertest
