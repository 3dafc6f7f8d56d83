package env

import (
	"fmt"
	"strings"
)

// ContextHint says how to get a kube context that is missing from the kubeconfig. For a name
// in GKE's form, gke_PROJECT_LOCATION_CLUSTER (none of the three may hold an underscore), that
// is the exact gcloud command that writes it; for any other name, where to look for the names
// the kubeconfig does have. The sentence is for people, and the same wherever rhizome finds the
// context missing (doctor, a failing forward).
func ContextHint(context string) string {
	if project, location, cluster, ok := gkeContext(context); ok {
		return fmt.Sprintf("gcloud container clusters get-credentials %s --location %s --project %s", cluster, location, project)
	}
	return fmt.Sprintf("kubectl config get-contexts lists the contexts your kubeconfig has: add %q to it, or name one of those in the environment's context line", context)
}

// LoginHint says how to renew the credentials of a kube context that the API server rejects or
// whose credential plugin wants a login.
func LoginHint(context string) string {
	if _, _, _, ok := gkeContext(context); ok {
		return "log in again: gcloud auth login (gke-gcloud-auth-plugin uses those credentials)"
	}
	return fmt.Sprintf("log in again with whatever issued the kubeconfig's credentials for %s", context)
}

// gkeContext splits a context named as `gcloud container clusters get-credentials` names it.
func gkeContext(context string) (project, location, cluster string, ok bool) {
	parts := strings.Split(context, "_")
	if len(parts) != 4 || parts[0] != "gke" {
		return "", "", "", false
	}
	for _, p := range parts[1:] {
		if p == "" {
			return "", "", "", false
		}
	}
	return parts[1], parts[2], parts[3], true
}
