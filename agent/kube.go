package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/rpc"
)

// kubeViewTimeout bounds reading the kubeconfig with kubectl (no API server is asked).
const kubeViewTimeout = 10 * time.Second

// Kube implements rpc.Service: what this agent, with its own environment, would run for a
// forward of p's kubeconfig and context. doctor asks it, since an agent started by a service
// manager may have another PATH or RHIZOME_KUBECTL than the shell.
func (a *Agent) Kube(ctx context.Context, p rpc.KubeParams) (rpc.KubeResult, error) {
	r := rpc.KubeResult{Path: os.Getenv("PATH")}
	if err := env.CheckContext(p.Context); err != nil {
		return r, rpc.InvalidParams("kube_context %q: %v", p.Context, err)
	}
	if p.Kubeconfig != "" {
		if err := env.CheckKubeconfig(p.Kubeconfig); err != nil {
			return r, rpc.InvalidParams("kubeconfig %q: %v", p.Kubeconfig, err)
		}
	}
	kubectl, err := forward.FindKubectl(a.cfg.Kubectl)
	if err != nil {
		r.KubectlError = err.Error()
		return r, nil
	}
	r.Kubectl = kubectl
	ctx, cancel := context.WithTimeout(ctx, kubeViewTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "config", "view", "--minify", "-o", "json", "--context="+p.Context)
	cmd.Env = os.Environ()
	if p.Kubeconfig != "" {
		cmd.Env = append(cmd.Env, "KUBECONFIG="+p.Kubeconfig)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if cmd.Run() != nil {
		return r, nil // no such context: doctor's own context check says so
	}
	var view struct {
		Users []struct {
			User struct {
				Exec struct {
					Command string `json:"command"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	if json.Unmarshal(stdout.Bytes(), &view) != nil || len(view.Users) == 0 || view.Users[0].User.Exec.Command == "" {
		return r, nil
	}
	r.Plugin = view.Users[0].User.Exec.Command
	if path, err := exec.LookPath(r.Plugin); err != nil {
		where := "on its PATH"
		if strings.Contains(r.Plugin, "/") {
			where = "there"
		}
		r.PluginError = fmt.Sprintf("%s is not %s", r.Plugin, where)
	} else {
		r.PluginPath = path
	}
	return r, nil
}
