package env

import "testing"

func TestContextHint(t *testing.T) {
	tests := []struct {
		name, context, want string
	}{
		{
			name:    "GKE zone-less region",
			context: "gke_clover-prod-kubernetes_us-central1_na-prod-us-central1-cluster",
			want:    "gcloud container clusters get-credentials na-prod-us-central1-cluster --location us-central1 --project clover-prod-kubernetes",
		},
		{
			name:    "GKE zone",
			context: "gke_proj_europe-west1-b_eu",
			want:    "gcloud container clusters get-credentials eu --location europe-west1-b --project proj",
		},
		{
			name:    "not GKE",
			context: "kind-dev",
			want:    `kubectl config get-contexts lists the contexts your kubeconfig has: add "kind-dev" to it, or name one of those in the environment's context line`,
		},
		{
			name:    "GKE prefix with a part missing",
			context: "gke_proj__cluster",
			want:    `kubectl config get-contexts lists the contexts your kubeconfig has: add "gke_proj__cluster" to it, or name one of those in the environment's context line`,
		},
		{
			name:    "too many parts",
			context: "gke_a_b_c_d",
			want:    `kubectl config get-contexts lists the contexts your kubeconfig has: add "gke_a_b_c_d" to it, or name one of those in the environment's context line`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContextHint(tt.context); got != tt.want {
				t.Errorf("ContextHint(%q) = %q, want %q", tt.context, got, tt.want)
			}
		})
	}
}

func TestLoginHint(t *testing.T) {
	tests := []struct{ name, context, want string }{
		{"GKE", "gke_p_us-central1_c", "log in again: gcloud auth login (gke-gcloud-auth-plugin uses those credentials)"},
		{"other", "kind-dev", "log in again with whatever issued the kubeconfig's credentials for kind-dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LoginHint(tt.context); got != tt.want {
				t.Errorf("LoginHint(%q) = %q, want %q", tt.context, got, tt.want)
			}
		})
	}
}
