package clustertest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// kwokConfig says how KWOK serves the one pod it knows: exec runs commands on this host in
// workDir, logs come from logFile, and each of forwards maps a pod port to a port on
// 127.0.0.1. Other pod ports, and every other pod, get none of these, so a port-forward to them
// fails as it would to a closed port or a deleted pod. The Cluster* objects live in the config file because
// per-pod objects would need KWOK's CRDs; KWOK reads the file only when it starts.
type kwokConfig struct {
	namespace, pod, workDir, logFile string
	forwards                         []portMap
}

// portMap is one pod port KWOK forwards, and the host port behind it.
type portMap struct{ podPort, targetPort int }

func (k kwokConfig) yaml() string {
	q := strconv.Quote // a Go-quoted string is a valid YAML double-quoted scalar for these paths
	return fmt.Sprintf(`apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: clustertest
spec:
  selector:
    matchNamespaces: [%[1]s]
    matchNames: [%[5]s]
  execs:
  - local:
      workDir: %[2]s
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: clustertest
spec:
  selector:
    matchNamespaces: [%[1]s]
    matchNames: [%[5]s]
  logs:
  - logsFile: %[3]s
    follow: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: clustertest
spec:
  selector:
    matchNamespaces: [%[1]s]
    matchNames: [%[5]s]
  forwards:
%[4]s`, q(k.namespace), q(k.workDir), q(k.logFile), k.forwardsYAML(), q(k.pod))
}

func (k kwokConfig) forwardsYAML() string {
	var b strings.Builder
	for _, f := range k.forwards {
		fmt.Fprintf(&b, "  - ports: [%d]\n    target:\n      address: 127.0.0.1\n      port: %d\n", f.podPort, f.targetPort)
	}
	return b.String()
}

// kwok runs KWOK, the simulated kubelet, for the nodes annotated kwok.x-k8s.io/node=fake. It can
// be stopped and started again on the same port, which the node object names as its kubelet
// endpoint. Not safe for concurrent use; the Cluster serializes calls.
type kwok struct {
	bin, dir, kubeconfig string
	port                 int
	sp                   *spawner
	config               kwokConfig // written to the config file at each start
	proc                 *child     // nil while stopped
}

// start writes the config file, runs KWOK and waits until its server answers. It does nothing
// when KWOK is running.
func (k *kwok) start(ctx context.Context) error {
	if k.proc != nil && !k.proc.exited() {
		return nil
	}
	configFile := filepath.Join(k.dir, "kwok.yaml")
	if err := os.WriteFile(configFile, []byte(k.config.yaml()), 0o644); err != nil {
		return fmt.Errorf("writing kwok config: %w", err)
	}
	logPath := filepath.Join(k.dir, "kwok.log")
	addr := "127.0.0.1:" + strconv.Itoa(k.port)
	cmd := exec.Command(k.bin,
		"--config", configFile,
		"--kubeconfig", k.kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--node-ip", "127.0.0.1",
		"--node-port", strconv.Itoa(k.port),
		"--server-address", addr,
	)
	c, err := k.sp.start("kwok", logPath, cmd)
	if err != nil {
		return err
	}
	// KWOK serves plain HTTP and TLS on the same port.
	hc := &http.Client{Timeout: time.Second}
	err = waitChild(ctx, c, logPath, func() error {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("kwok healthz: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		c.stop(0)
		return err
	}
	k.proc = c
	return nil
}

// stop ends KWOK, gracefully if it can. It does nothing when KWOK is stopped.
func (k *kwok) stop() error {
	if k.proc == nil {
		return nil
	}
	err := k.proc.stop(2 * time.Second)
	k.proc = nil
	return err
}
