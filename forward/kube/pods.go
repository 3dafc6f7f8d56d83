package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrNoPodRunning says that no pod of the deployment became Running in time.
var ErrNoPodRunning = errors.New("no pod of the deployment is running")

// labelSelector is a Deployment's spec.selector.
type labelSelector struct {
	MatchLabels      map[string]string `json:"matchLabels"`
	MatchExpressions []struct {
		Key      string   `json:"key"`
		Operator string   `json:"operator"`
		Values   []string `json:"values"`
	} `json:"matchExpressions"`
}

// String is the selector in the API's query syntax (a=b,c in (d,e),!f).
func (s labelSelector) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	for _, e := range s.MatchExpressions {
		switch e.Operator {
		case "In":
			parts = append(parts, e.Key+" in ("+strings.Join(e.Values, ",")+")")
		case "NotIn":
			parts = append(parts, e.Key+" notin ("+strings.Join(e.Values, ",")+")")
		case "Exists":
			parts = append(parts, e.Key)
		case "DoesNotExist":
			parts = append(parts, "!"+e.Key)
		}
	}
	return strings.Join(parts, ",")
}

// Selector returns the pod selector of a deployment.
func (p *Proxy) Selector(ctx context.Context, namespace, deployment string) (string, error) {
	var d struct {
		Spec struct {
			Selector labelSelector `json:"selector"`
		} `json:"spec"`
	}
	path := fmt.Sprintf("/apis/apps/v1/namespaces/%s/deployments/%s", url.PathEscape(namespace), url.PathEscape(deployment))
	if err := p.get(ctx, path, &d); err != nil {
		if IsNotFound(err) {
			// A deployment is also "not found" in a namespace that does not exist; say which
			// (a user who may not read namespaces learns only of the deployment).
			var ns struct{}
			if nsErr := p.get(ctx, "/api/v1/namespaces/"+url.PathEscape(namespace), &ns); IsNotFound(nsErr) {
				return "", nsErr
			}
		}
		return "", err
	}
	sel := d.Spec.Selector.String()
	if sel == "" {
		return "", fmt.Errorf("deployment %s has no pod selector", deployment)
	}
	return sel, nil
}

// pod is what a forward needs of a pod.
type pod struct {
	Metadata struct {
		Name              string  `json:"name"`
		DeletionTimestamp *string `json:"deletionTimestamp"`
		CreationTimestamp string  `json:"creationTimestamp"`
	} `json:"metadata"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

// podList is the API's list of pods, with the version to watch from.
type podList struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []pod `json:"items"`
}

// running reports whether streams to the pod can work: it runs and is not going away.
func (p pod) running() bool {
	return p.Status.Phase == "Running" && p.Metadata.DeletionTimestamp == nil
}

func (p pod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// pick chooses the pod to forward to among pods, as kubectl does for deploy/NAME: a running
// one, ready ones first, then the newest. "" when none runs.
func pick(pods []pod) string {
	var best *pod
	for i := range pods {
		c := &pods[i]
		if !c.running() {
			continue
		}
		if best == nil || (c.ready() && !best.ready()) ||
			(c.ready() == best.ready() && c.Metadata.CreationTimestamp > best.Metadata.CreationTimestamp) {
			best = c
		}
	}
	if best == nil {
		return ""
	}
	return best.Metadata.Name
}

// RunningPod returns a running pod matching selector, waiting up to wait for one, as a watch
// of the API server tells: a pod replaced under a forward is found the moment the new one
// runs.
func (p *Proxy) RunningPod(ctx context.Context, namespace, selector string, wait time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	q := url.Values{"labelSelector": {selector}}
	base := fmt.Sprintf("/api/v1/namespaces/%s/pods", url.PathEscape(namespace))
	for {
		var list podList
		if err := p.get(ctx, base+"?"+q.Encode(), &list); err != nil {
			return "", p.timedOut(ctx, err, wait)
		}
		pods := map[string]pod{}
		for _, it := range list.Items {
			pods[it.Metadata.Name] = it
		}
		if name := pick(list.Items); name != "" {
			return name, nil
		}
		// Watch from the list's version until one runs; a watch the server ends lists again.
		err := p.watch(ctx, base, selector, "", list.Metadata.ResourceVersion, func(typ string, o pod) bool {
			if typ == "DELETED" {
				delete(pods, o.Metadata.Name)
			} else {
				pods[o.Metadata.Name] = o
			}
			return pick(slices.Collect(maps.Values(pods))) == ""
		})
		if name := pick(slices.Collect(maps.Values(pods))); name != "" {
			return name, nil
		}
		var ae *APIError
		if err == nil || (errors.As(err, &ae) && ae.Status == 410) {
			// The server ended the watch (they time out), or its version is too old: list
			// again, after a breath, so that a server that ends every watch at once is not
			// asked in a loop.
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
				continue
			}
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "", fmt.Errorf("%w: waited %v for a Running pod (selector %s)", ErrNoPodRunning, wait, selector)
			}
			return "", ctx.Err()
		}
		return "", err
	}
}

// timedOut words err, which ended a call within wait.
func (p *Proxy) timedOut(ctx context.Context, err error, wait time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the API server gave no answer within %v: %w", wait, err)
	}
	return err
}

// WatchPod returns nil once pod stops running (deleted, being deleted, or no longer Running),
// or the watch's error. A watch that the API server ends by itself (they time out) is
// started again.
func (p *Proxy) WatchPod(ctx context.Context, namespace, name string) error {
	base := fmt.Sprintf("/api/v1/namespaces/%s/pods", url.PathEscape(namespace))
	for {
		var list podList
		field := "metadata.name=" + name
		if err := p.get(ctx, base+"?"+url.Values{"fieldSelector": {field}}.Encode(), &list); err != nil {
			return err
		}
		if len(list.Items) == 0 || !list.Items[0].running() {
			return nil
		}
		gone := false
		err := p.watch(ctx, base, "", field, list.Metadata.ResourceVersion, func(typ string, o pod) bool {
			gone = typ == "DELETED" || !o.running()
			return !gone
		})
		if gone {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// watch follows the pods of base that match the selectors from version on, calling more for
// each event until it returns false. It returns nil when more said stop or the server ended
// the watch, else the error.
func (p *Proxy) watch(ctx context.Context, base, labels, fields, version string, more func(typ string, o pod) bool) error {
	q := url.Values{"watch": {"1"}, "resourceVersion": {version}, "allowWatchBookmarks": {"false"}}
	if labels != "" {
		q.Set("labelSelector", labels)
	}
	if fields != "" {
		q.Set("fieldSelector", fields)
	}
	resp, err := p.do(ctx, base+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil // the server ended the watch, or the connection broke: the caller lists again
		}
		if ev.Type == "ERROR" {
			var st status
			_ = json.Unmarshal(ev.Object, &st)
			return &APIError{Status: 410, Reason: st.Reason, Message: st.Message}
		}
		var o pod
		if err := json.Unmarshal(ev.Object, &o); err != nil {
			continue
		}
		if !more(ev.Type, o) {
			return nil
		}
	}
}
