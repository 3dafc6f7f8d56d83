package clustertest

import (
	"context"
	"errors"
	"fmt"
)

// The objects below are what `kubectl exec/logs/port-forward deploy/NAME` needs without a
// scheduler or controller manager: a Node that KWOK manages, a Deployment whose selector finds
// the pod, and a hand-made pod bound to the node. Replacing the pod stands in for a rollout.

const (
	nodeName = "kwok-node-0"
	// podTemplateHash is what a ReplicaSet would add to its pods' labels and names.
	podTemplateHash = "7c9d8b6f5d"
	containerName   = "cloud-sql-proxy"
)

// objects creates and replaces the cluster's Kubernetes objects. Safe for concurrent use.
type objects struct {
	api        *kubeAPI
	namespace  string
	deployment string
	podPorts   []int
}

func (o *objects) labels() map[string]any {
	return map[string]any{"app": o.deployment}
}

// podSpec is shared by the Deployment's template and the pods: it tolerates the KWOK node's
// taint and mounts no service-account token (no controller makes one).
func (o *objects) podSpec() map[string]any {
	return map[string]any{
		"automountServiceAccountToken": false,
		"tolerations": []any{map[string]any{
			"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule",
		}},
		"containers": []any{map[string]any{
			"name":  containerName,
			"image": "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0",
			"ports": o.containerPorts(),
		}},
	}
}

func (o *objects) containerPorts() []any {
	var ports []any
	for _, p := range o.podPorts {
		ports = append(ports, map[string]any{"containerPort": p, "protocol": "TCP"})
	}
	return ports
}

// create makes the namespace, the KWOK node and the Deployment.
func (o *objects) create(ctx context.Context) error {
	ns := map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": o.namespace},
	}
	node := map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{
			"name":        nodeName,
			"annotations": map[string]any{"kwok.x-k8s.io/node": "fake"},
			"labels":      map[string]any{"type": "kwok", "kubernetes.io/hostname": nodeName},
		},
		"spec": map[string]any{"taints": []any{map[string]any{
			"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule",
		}}},
	}
	deploy := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": o.deployment, "namespace": o.namespace, "labels": o.labels()},
		"spec": map[string]any{
			"replicas": 1,
			"selector": map[string]any{"matchLabels": o.labels()},
			"template": map[string]any{
				"metadata": map[string]any{"labels": o.labels()},
				"spec":     o.podSpec(),
			},
		},
	}
	if err := o.api.do(ctx, "POST", "/api/v1/namespaces", ns, nil); err != nil {
		return fmt.Errorf("creating namespace: %w", err)
	}
	if err := o.api.do(ctx, "POST", "/api/v1/nodes", node, nil); err != nil {
		return fmt.Errorf("creating node: %w", err)
	}
	if err := o.api.do(ctx, "POST", "/apis/apps/v1/namespaces/"+o.namespace+"/deployments", deploy, nil); err != nil {
		return fmt.Errorf("creating deployment: %w", err)
	}
	return nil
}

// createPod makes a new pod of the Deployment on the KWOK node and returns its name. KWOK marks
// it Running; waitPodRunning waits for that.
func (o *objects) createPod(ctx context.Context) (string, error) {
	spec := o.podSpec()
	spec["nodeName"] = nodeName
	labels := o.labels()
	labels["pod-template-hash"] = podTemplateHash
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"generateName": o.deployment + "-" + podTemplateHash + "-",
			"namespace":    o.namespace,
			"labels":       labels,
		},
		"spec": spec,
	}
	var created struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := o.api.do(ctx, "POST", o.podsPath(), pod, &created); err != nil {
		return "", fmt.Errorf("creating pod: %w", err)
	}
	return created.Metadata.Name, nil
}

// waitPodRunning waits until KWOK reports the pod Running and Ready.
func (o *objects) waitPodRunning(ctx context.Context, name string) error {
	return poll(ctx, "pod "+name+" to run", func() error {
		var pod struct {
			Status struct {
				Phase      string `json:"phase"`
				Conditions []struct {
					Type, Status string
				} `json:"conditions"`
			} `json:"status"`
		}
		if err := o.api.do(ctx, "GET", o.podsPath()+"/"+name, nil, &pod); err != nil {
			return err
		}
		if pod.Status.Phase != "Running" {
			return fmt.Errorf("pod phase is %q", pod.Status.Phase)
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				return nil
			}
		}
		return errors.New("pod is not Ready")
	})
}

// deletePod removes the pod at once (grace period 0, as a kubelet would confirm) and waits
// until it is gone, so that kubectl can no longer pick it.
func (o *objects) deletePod(ctx context.Context, name string) error {
	path := o.podsPath() + "/" + name
	body := map[string]any{"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0}
	if err := o.api.do(ctx, "DELETE", path, body, nil); err != nil && !errors.Is(err, errNotFound) {
		return fmt.Errorf("deleting pod: %w", err)
	}
	return poll(ctx, "pod "+name+" to go", func() error {
		err := o.api.do(ctx, "GET", path, nil, nil)
		if errors.Is(err, errNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("pod still exists")
	})
}

func (o *objects) podsPath() string { return "/api/v1/namespaces/" + o.namespace + "/pods" }
