package env

import (
	"strings"
	"testing"
)

// TestDiagnose holds, for each row of the pattern table, a message as kubectl 1.32, the API
// server or the test cluster's connection script printed it here (forward/e2e produces each of
// them for real through a forward).
func TestDiagnose(t *testing.T) {
	w := Where{Environment: "na-prod", Context: "gke_proj_us-central1_prod", Namespace: "gke-cloudsql-access",
		Deployment: "gke-cloudsql-access", Instance: "proj:us-central1:db"}
	tests := []struct {
		name, msg string
		kind      FailureKind
		fix       string
	}{
		{"missing context", `kubectl logs: error: context "gke_proj_us-central1_prod" does not exist`,
			Permanent, "gcloud container clusters get-credentials prod --location us-central1 --project proj"},
		{"missing namespace", `kubectl logs: error: error from server (NotFound): namespaces "nons" not found in namespace "nons"`,
			Permanent, "namespace nons does not exist in gke_proj_us-central1_prod"},
		{"missing deployment", `kubectl logs: error: error from server (NotFound): deployments.apps "x" not found in namespace "gke-cloudsql-access"`,
			Permanent, "deployment x does not exist in namespace gke-cloudsql-access"},
		{"missing deployment, port-forward", `Error from server (NotFound): deployments.apps "x" not found`,
			Permanent, "deployment x does not exist"},
		{"forbidden", `error: error upgrading connection: pods "gke-cloudsql-access-abc" is forbidden: User "alice" cannot create resource "pods/portforward" in API group "" in the namespace "gke-cloudsql-access"`,
			Permanent, "may not create pods/portforward in namespace gke-cloudsql-access"},
		{"forbidden logs", `kubectl logs: Error from server (Forbidden): pods "x" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "ns"`,
			Permanent, "may not get pods/log"},
		{"unauthorized", `kubectl logs: error: You must be logged in to the server (Unauthorized)`,
			NeedsLogin, "gcloud auth login"},
		{"credential plugin", `kubectl logs: Unable to connect to the server: getting credentials: exec: executable gke-gcloud-auth-plugin failed with exit code 1`,
			NeedsLogin, "gcloud auth login"},
		{"unknown instance", `kubectl exec: [p:r:nope] instance does not exist; error: Internal error occurred: error executing command in container: exit status 1`,
			Permanent, "the connection script knows no instance proj:us-central1:db"},
		{"refused", `kubectl logs: The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?`,
			Transient, "the API server of gke_proj_us-central1_prod does not answer"},
		{"wrong engine", `nothing answers behind pod port 3307: engine: the database did not answer: no PostgreSQL answer: the SSLRequest got 'd', want 'S' or 'N' (a server of another engine? check the database's engine in the config)`,
			Permanent, "not as the database's engine: fix the database's engine line"},
		{"silent server", `kubectl logs: no answer within 30s`, Transient, "does not answer"},
		{"lost pod", `the port-forward exited before the forward was ready: error: lost connection to pod`, Transient, ""},
		{"pending pod", `error: unable to forward port because pod is not running. Current status=Pending`, Transient, ""},
		{"health check", `health check through the back end 127.0.0.1:4000 failed: EOF`, Transient, ""},
	}
	for _, tt := range tests {
		kind, fix := Diagnose(tt.msg, w)
		if kind != tt.kind || !strings.Contains(fix, tt.fix) || (tt.fix == "" && fix != "") {
			t.Errorf("%s: Diagnose(%q) = %v, %q; want %v, %q", tt.name, tt.msg, kind, fix, tt.kind, tt.fix)
		}
	}
}
