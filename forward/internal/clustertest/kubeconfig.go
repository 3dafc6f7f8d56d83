package clustertest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
)

// writeKubeconfig writes a kubeconfig whose only context, also the current one, is named
// context and reaches server with the client certificate certPEM (key keyPEM). JSON is valid
// YAML, so kubectl reads it.
func writeKubeconfig(path, context, server string, caPEM, certPEM, keyPEM []byte) error {
	b64 := base64.StdEncoding.EncodeToString
	return writeKubeconfigFor(path, context, server, caPEM, map[string]any{
		"client-certificate-data": b64(certPEM),
		"client-key-data":         b64(keyPEM),
	})
}

// writeExecKubeconfig is writeKubeconfig for a user whose credentials come from an exec
// credential plugin.
func writeExecKubeconfig(path, context, server string, caPEM []byte, plugin string) error {
	return writeKubeconfigFor(path, context, server, caPEM, map[string]any{
		"exec": map[string]any{
			"apiVersion":      "client.authentication.k8s.io/v1beta1",
			"command":         plugin,
			"interactiveMode": "Never",
		},
	})
}

func writeKubeconfigFor(path, context, server string, caPEM []byte, user map[string]any) error {
	b64 := base64.StdEncoding.EncodeToString
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": context,
		"clusters": []any{map[string]any{
			"name": context,
			"cluster": map[string]any{
				"server":                     server,
				"certificate-authority-data": b64(caPEM),
			},
		}},
		"users": []any{map[string]any{"name": context, "user": user}},
		"contexts": []any{map[string]any{
			"name":    context,
			"context": map[string]any{"cluster": context, "user": context},
		}},
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}
