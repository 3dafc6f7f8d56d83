// Package clustertest starts a real Kubernetes control plane for tests, in the spirit of
// net/http/httptest: etcd, kube-apiserver and KWOK (a simulated kubelet) on free loopback ports,
// plus a MariaDB server, laid out like rhizome's built-in environment so that the real kubectl
// can exec, read logs and port-forward against it.
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
// port-forward from this machine. Commands given to kubectl exec run on the host in the
// Cluster's work folder. Cluster.ConnectCommand is a script that behaves like the environment's
// connection script starting Cloud SQL Auth Proxy v2: for the known instance it makes pod port
// Cluster.PodPort lead to MariaDB and appends "[INSTANCE] Listening on 127.0.0.1:PORT" to the
// pod's log. The "proxy" is a TCP relay inside the test process that started the Cluster (the
// script asks for it over a loopback control port), so it can leave nothing running behind.
//
// # Lifetime
//
// Every process a Cluster starts gets its own process group and is killed when the test process
// dies, even by SIGKILL (Linux Pdeathsig). Close stops them and removes the work folder; work
// folders left by a crashed test are removed by the next Start.
//
// # Finding the binaries
//
// Options.BinDir, else $RHIZOME_KUBE_BIN, else .cache/kube/<versions>/bin under the repository
// root found above the working directory, with the versions read from scripts/kube-versions.
// When they are missing, Start fails with ErrToolsMissing and a message naming scripts/kube-tools.
package clustertest
