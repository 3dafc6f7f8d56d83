package clustertest

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"time"
)

// startEtcd runs a single-member etcd on the given loopback ports with its data in dir and waits
// until it reports healthy. The caller owns the returned child.
func startEtcd(ctx context.Context, sp *spawner, bin, dir string, clientPort, peerPort int) (*child, error) {
	client := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	logPath := filepath.Join(dir, "etcd.log")
	cmd := exec.Command(bin,
		"--name", "clustertest",
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "clustertest="+peer,
		"--log-level", "warn",
		// Throwaway data: skipping fsync saves seconds on a slow disk.
		"--unsafe-no-fsync",
	)
	c, err := sp.start("etcd", logPath, cmd)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Second}
	err = waitChild(ctx, c, logPath, func() error {
		resp, err := hc.Get(client + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("etcd health: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		c.stop(0)
		return nil, err
	}
	return c, nil
}
