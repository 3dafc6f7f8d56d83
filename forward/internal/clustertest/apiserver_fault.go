package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// StopAPIServer stops kube-apiserver, as a dropped VPN, a closed laptop lid or a control-plane
// upgrade makes it unreachable: kubectl's requests are refused, and port-forward sessions,
// which run through it, drop. Etcd, KWOK, the pod and the databases keep running.
// StartAPIServer brings it back.
func (c *Cluster) StopAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	i := c.apiServerLocked()
	if i < 0 || c.procs[i].exited() {
		return nil
	}
	return c.procs[i].stop(stopGrace)
}

// StartAPIServer starts kube-apiserver again on its port and returns when it answers.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	i := c.apiServerLocked()
	if i >= 0 && !c.procs[i].exited() {
		return nil
	}
	a, err := c.startAPI(ctx)
	if err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	if i >= 0 {
		c.procs[i] = a
	} else {
		c.procs = append(c.procs, a)
	}
	return nil
}

func (c *Cluster) apiServerLocked() int {
	for i, p := range c.procs {
		if p.name == "kube-apiserver" {
			return i
		}
	}
	return -1
}

// CredentialPlugin is an exec credential plugin in a kubeconfig, standing in for GKE's
// gke-gcloud-auth-plugin: it hands kubectl the cluster's admin credentials while logged in, and
// fails as the real plugin does once the gcloud login behind it has expired.
type CredentialPlugin struct {
	Kubeconfig string // a kubeconfig whose user's credentials come from the plugin
	loggedOut  string // while this file exists, the plugin fails
}

// CredentialPlugin writes a kubeconfig whose only user gets its credentials from a plugin
// named gke-gcloud-auth-plugin, logged in to begin with.
func (c *Cluster) CredentialPlugin() (*CredentialPlugin, error) {
	dir, err := os.MkdirTemp(c.Dir, "plugin")
	if err != nil {
		return nil, fmt.Errorf("credential plugin: %w", err)
	}
	cred, err := json.Marshal(map[string]any{
		"apiVersion": "client.authentication.k8s.io/v1beta1",
		"kind":       "ExecCredential",
		"status": map[string]any{
			"clientCertificateData": string(c.pki.adminCertPEM),
			"clientKeyData":         string(c.pki.adminKeyPEM),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("credential plugin: %w", err)
	}
	credFile, plugin := filepath.Join(dir, "credential.json"), filepath.Join(dir, "gke-gcloud-auth-plugin")
	p := &CredentialPlugin{Kubeconfig: filepath.Join(dir, "kubeconfig"), loggedOut: filepath.Join(dir, "logged-out")}
	// The message is the real plugin's when gcloud's credentials can no longer be refreshed.
	script := fmt.Sprintf(`#!/bin/sh
if [ -e %q ]; then
	echo "F1201 09:00:00.000000    4242 cred.go:123] print credential failed with error: Failed to retrieve access token:: failure while executing gcloud, with args [config config-helper --format=json]: exit status 1" >&2
	exit 1
fi
exec cat %q
`, p.loggedOut, credFile)
	if err := os.WriteFile(credFile, cred, 0o600); err != nil {
		return nil, fmt.Errorf("credential plugin: %w", err)
	}
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("credential plugin: %w", err)
	}
	if err := writeExecKubeconfig(p.Kubeconfig, c.Context, c.server, c.pki.caPEM, plugin); err != nil {
		return nil, err
	}
	return p, nil
}

// SetLoggedIn makes the plugin work (true) or fail as an expired login does (false).
func (p *CredentialPlugin) SetLoggedIn(in bool) error {
	if in {
		if err := os.Remove(p.loggedOut); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	return os.WriteFile(p.loggedOut, nil, 0o600)
}
