package clustertest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
)

// startAPIServer runs kube-apiserver on 127.0.0.1:port against etcd and waits until /readyz
// answers the admin user. Only what a Deployment, its pod and kubectl exec/logs/port-forward need
// is on: no service-account admission (there is no controller to make the accounts), no priority
// and fairness. The caller owns the returned child.
func startAPIServer(ctx context.Context, sp *spawner, bin, dir string, port, etcdPort int, p *pki, api *kubeAPI) (*child, error) {
	logPath := filepath.Join(dir, "apiserver.log")
	cmd := exec.Command(bin,
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port),
		"--advertise-address", "127.0.0.1",
		"--endpoint-reconciler-type", "none",
		"--tls-cert-file", p.serverCert,
		"--tls-private-key-file", p.serverKey,
		"--client-ca-file", p.caFile,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", p.saPub,
		"--service-account-signing-key-file", p.saKey,
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--authorization-mode", "RBAC",
		"--disable-admission-plugins", "ServiceAccount",
		// KWOK gives the node 127.0.0.1 as its InternalIP; exec, logs and port-forward go there.
		"--kubelet-preferred-address-types", "InternalIP",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--cert-dir", filepath.Join(dir, "apiserver-certs"),
	)
	c, err := sp.start("kube-apiserver", logPath, cmd)
	if err != nil {
		return nil, err
	}
	err = waitChild(ctx, c, logPath, func() error {
		return api.do(ctx, "GET", "/readyz", nil, nil)
	})
	if err != nil {
		c.stop(0)
		return nil, err
	}
	return c, nil
}
