package env

import (
	"strings"
	"testing"
)

// eksContext is the context name `aws eks update-kubeconfig` writes.
const eksContext = "arn:aws:eks:us-east-1:123456789012:cluster/prod"

func TestCheckContext(t *testing.T) {
	tests := []struct {
		name, context string
		ok            bool
	}{
		{"GKE", "gke_clover-prod-kubernetes_us-central1_na-prod-us-central1-cluster", true},
		{"EKS", eksContext, true},
		{"eksctl", "admin@prod.us-east-1.eksctl.io", true},
		{"OpenShift", "default/api-crc-testing:6443/kubeadmin", true},
		{"kind", "kind-dev", true},
		{"non-ASCII letters", "prüfung-ç", true},
		{"plus", "dev+staging", true},
		{"longest", strings.Repeat("c", maxKubeName), true},
		{"empty", "", false},
		{"too long", strings.Repeat("c", maxKubeName+1), false},
		{"long flag", "--kubeconfig=/etc/shadow", false},
		{"short flag", "-v=9", false},
		{"newline", "ctx\n--token=x", false},
		{"NUL", "ctx\x00x", false},
		{"escape", "ctx\x1b]0;owned\x07", false},
		{"DEL", "ctx\x7f", false},
		{"space", "ctx --insecure-skip-tls-verify", false},
		{"semicolon", "ctx;touch /tmp/pwned", false},
		{"command substitution", "$(id)", false},
		{"backquotes", "`id`", false},
		{"not UTF-8", "ctx\xff", false},
		{"bidi override", "ctx\u202e", false},
	}
	for _, tt := range tests {
		err := CheckContext(tt.context)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckContext(%q) = %v, want ok %v", tt.name, tt.context, err, tt.ok)
		}
	}
}

func TestCheckKubeObject(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"plain", "gke-cloudsql-access", true},
		{"dotted", "proxy.v2", true},
		{"empty", "", false},
		{"flag", "--all-namespaces", false},
		{"short flag", "-A", false},
		{"slash", "x/../../pod", false},
		{"path", "/etc/passwd", false},
		{"space", "a b", false},
		{"backquotes", "`id`", false},
		{"too long", strings.Repeat("n", maxKubeName+1), false},
	}
	for _, tt := range tests {
		err := CheckKubeObject(tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckKubeObject(%q) = %v, want ok %v", tt.name, tt.value, err, tt.ok)
		}
	}
}

func TestCheckInstanceAndCommand(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"instance", CheckInstance("clover-prod-databases:us-central1:billing-bookkeeper"), true},
		{"domain-scoped instance", CheckInstance("example.com:proj:europe-west1:db"), true},
		{"instance as a flag", CheckInstance("--port=1"), false},
		{"instance with a pipe", CheckInstance("p:r:i|sh"), false},
		{"instance path", CheckInstance("../../p:r:i"), false},
		{"overlong instance", CheckInstance(strings.Repeat("p", maxInstance) + ":r:i"), false},
		{"command", CheckConnectCommand([]string{"/usr/local/bin/cloudsql-connect", "--port=5432"}), true},
		{"no command", CheckConnectCommand(nil), false},
		{"command as a flag", CheckConnectCommand([]string{"--help"}), false},
		{"command with a shell", CheckConnectCommand([]string{"/bin/sh", "-c", "id; id"}), false},
		{"command with an empty word", CheckConnectCommand([]string{"proxy", ""}), false},
		{"kubeconfig", CheckKubeconfig("/home/u/.kube/config:/tmp/k"), true},
		{"kubeconfig with a space", CheckKubeconfig("/tmp/k --token=x"), false},
		{"port", CheckPort(DefaultLocalPort), true},
		{"port 0", CheckPort(0), false},
		{"port past 65535", CheckPort(65536), false},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, tt.err, tt.ok)
		}
	}
}

// TestConfigTakesEveryContext reads contexts of every kind from a config file: the EKS ARN the
// agent used to refuse among them.
func TestConfigTakesEveryContext(t *testing.T) {
	for _, context := range []string{eksContext, "admin@prod.us-east-1.eksctl.io", "default/api-crc-testing:6443/kubeadmin"} {
		c, err := parseString(t, "environment x\n context "+context+"\n namespace n\n deployment d\n database db\n  instance p:r:i\n")
		if err != nil {
			t.Errorf("parse(context %s) = %v", context, err)
			continue
		}
		if e, _ := c.Environment("x"); e.Context != context {
			t.Errorf("parse(context %s): Context = %q", context, e.Context)
		}
	}
	_, err := parseString(t, "environment x\n deployment a/b\n")
	if err == nil || !strings.Contains(err.Error(), `config:2: deployment "a/b" is not a name kubectl accepts`) {
		t.Errorf("parse(deployment a/b) = %v, want it refused, as the agent refuses it", err)
	}
}
