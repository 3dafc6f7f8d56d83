package forward

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPortAnnouncements(t *testing.T) {
	const inst = "clover-prod-databases:us-central1:billing-bookkeeper"
	re, err := compilePattern("", inst)
	if err != nil {
		t.Fatal(err)
	}
	log := strings.Join([]string{
		"2024/01/02 15:04:05 Authorizing with Application Default Credentials",
		"2024/01/02 15:04:05 [clover-prod-databases:us-central1:billing-bookkeeper] Listening on 127.0.0.1:3307",
		"2024/01/02 15:04:05 [clover-prod-databases:us-central1:other] Listening on 127.0.0.1:4000",
		"2024/01/02 15:04:05 [clover-prod-databasesXus-central1:billing-bookkeeper] Listening on 127.0.0.1:5000",
		"2024/01/02 16:00:00 [clover-prod-databases:us-central1:billing-bookkeeper] Listening on 127.0.0.1:3308",
	}, "\n")
	if got, want := portAnnouncements(re, log), []int{3307, 3308}; !slices.Equal(got, want) {
		t.Errorf("portAnnouncements() = %v, want %v (only this instance, in order)", got, want)
	}
	custom, err := compilePattern(`proxy for {instance} on port (\d+)`, "p:r:i")
	if err != nil {
		t.Fatal(err)
	}
	if got := portAnnouncements(custom, "proxy for p:r:i on port 6000\nproxy for pXr:i on port 7000"); !slices.Equal(got, []int{6000}) {
		t.Errorf("custom pattern found %v, want [6000]", got)
	}
	for _, bad := range []string{"no group", "(unclosed"} {
		if _, err := compilePattern(bad, "p:r:i"); !errors.Is(err, ErrInvalid) {
			t.Errorf("compilePattern(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Request{Context: "gke_p_us-central1_c", Namespace: "ns", Deployment: "dep", SQLConnection: "p:r:i", LocalPort: 3306}
	if err := ok.validate(); err != nil {
		t.Fatalf("validate(%+v) = %v", ok, err)
	}
	tests := []struct {
		name   string
		change func(*Request)
	}{
		{"flag context", func(r *Request) { r.Context = "--kubeconfig=/etc/shadow" }},
		{"flag namespace", func(r *Request) { r.Namespace = "-A" }},
		{"path deployment", func(r *Request) { r.Deployment = "../../x" }},
		{"space", func(r *Request) { r.Deployment = "a b" }},
		{"shell instance", func(r *Request) { r.SQLConnection = "p:r:i;rm -rf /" }},
		{"empty instance", func(r *Request) { r.SQLConnection = "" }},
		{"port", func(r *Request) { r.LocalPort = 70000 }},
		{"flag command", func(r *Request) { r.ConnectCommand = []string{"--help"} }},
		{"shell command", func(r *Request) { r.ConnectCommand = []string{"sh", "-c", "id;id"} }},
		{"pattern", func(r *Request) { r.PortPattern = "(" }},
		{"kubeconfig", func(r *Request) { r.Kubeconfig = "/tmp/a b" }},
		{"engine", func(r *Request) { r.Engine = "oracle" }},
		{"flag user", func(r *Request) { r.User = "--init-command=x" }},
		{"relative password command", func(r *Request) { r.PasswordCommand = []string{"./token"} }},
		{"flag password command", func(r *Request) { r.PasswordCommand = []string{"-c"} }},
		{"negative password ttl", func(r *Request) { r.PasswordTTL = -time.Second }},
		{"empty password command", func(r *Request) { r.PasswordCommand = []string{""} }},
		{"user with a newline", func(r *Request) { r.User = "alice\nbob" }},
	}
	login := ok
	login.User, login.PasswordCommand = "alice@example.com", []string{"gcloud", "sql", "generate-login-token"}
	if err := login.validate(); err != nil {
		t.Errorf("validate(%+v) = %v", login, err)
	}
	for _, tt := range tests {
		r := ok
		tt.change(&r)
		if err := r.validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: validate(%+v) = %v, want ErrInvalid", tt.name, r, err)
		}
	}
}
