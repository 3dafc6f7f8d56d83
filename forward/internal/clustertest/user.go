package clustertest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
)

// Rule is one rule of a Role: Verbs allowed on Resources of APIGroups ("" is the core group).
// A subresource is named as kubectl auth can-i names it, e.g. "pods/portforward".
type Rule struct {
	APIGroups []string
	Resources []string
	Verbs     []string
}

// userRE keeps user names usable as object and file names.
var userRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// UserKubeconfig makes user a user of the cluster who may do in its Namespace only what rules
// allow (besides what every authenticated user may, such as asking what it may do), and
// returns the path of a kubeconfig for that user. The kubeconfig's one context is named
// Context, like the admin's, so code under test uses it unchanged; it authenticates with a
// client certificate (CN=user) signed by the cluster's CA. A Role and a RoleBinding named
// "clustertest-USER" grant the rules; calling it again for the same user replaces them.
func (c *Cluster) UserKubeconfig(ctx context.Context, user string, rules []Rule) (string, error) {
	if !userRE.MatchString(user) {
		return "", fmt.Errorf("user kubeconfig: user %q: want lowercase letters, digits and '-'", user)
	}
	certPEM, keyPEM, err := c.pki.clientCert(user)
	if err != nil {
		return "", fmt.Errorf("user kubeconfig for %s: %w", user, err)
	}
	if err := c.grant(ctx, user, rules); err != nil {
		return "", fmt.Errorf("user kubeconfig for %s: %w", user, err)
	}
	path := filepath.Join(c.Dir, "kubeconfig-"+user)
	if err := writeKubeconfig(path, c.Context, c.server, c.pki.caPEM, certPEM, keyPEM); err != nil {
		return "", err
	}
	return path, nil
}

// grant replaces user's Role and RoleBinding in the namespace with ones that allow rules.
func (c *Cluster) grant(ctx context.Context, user string, rules []Rule) error {
	const group = "rbac.authorization.k8s.io"
	name := "clustertest-" + user
	base := "/apis/" + group + "/v1/namespaces/" + c.Namespace
	apiRules := []any{}
	for _, r := range rules {
		apiRules = append(apiRules, map[string]any{"apiGroups": r.APIGroups, "resources": r.Resources, "verbs": r.Verbs})
	}
	role := map[string]any{
		"apiVersion": group + "/v1", "kind": "Role",
		"metadata": map[string]any{"name": name, "namespace": c.Namespace},
		"rules":    apiRules,
	}
	binding := map[string]any{
		"apiVersion": group + "/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": name, "namespace": c.Namespace},
		"roleRef":  map[string]any{"apiGroup": group, "kind": "Role", "name": name},
		"subjects": []any{map[string]any{"apiGroup": group, "kind": "User", "name": user}},
	}
	for _, o := range []struct {
		path string
		body any
	}{{base + "/roles", role}, {base + "/rolebindings", binding}} {
		if err := c.api.do(ctx, "DELETE", o.path+"/"+name, nil, nil); err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if err := c.api.do(ctx, "POST", o.path, o.body, nil); err != nil {
			return err
		}
	}
	return nil
}
