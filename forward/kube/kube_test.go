package kube

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/spdystream"
)

// TestAPIErrorReadsAsKubectl: the API server's Status and kubectl proxy's plain words come out
// as kubectl says them, "message (Reason)", which the failure table knows.
func TestAPIErrorReadsAsKubectl(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"status object", 404, `{"kind":"Status","message":"deployments.apps \"x\" not found","reason":"NotFound"}`, `deployments.apps "x" not found (NotFound)`},
		{"forbidden", 403, `{"kind":"Status","message":"pods \"p\" is forbidden: User \"alice\" cannot create resource \"pods/portforward\"","reason":"Forbidden"}`,
			`pods "p" is forbidden: User "alice" cannot create resource "pods/portforward" (Forbidden)`},
		{"proxy's own words", 502, "dial tcp 127.0.0.1:6443: connect: connection refused\n", "dial tcp 127.0.0.1:6443: connect: connection refused"},
		{"unauthorized, no body", 401, "", "the API server answered 401 (Unauthorized)"},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Body: io.NopCloser(strings.NewReader(tt.body))}
		if got := readAPIError(resp).Error(); got != tt.want {
			t.Errorf("%s: readAPIError = %q, want %q", tt.name, got, tt.want)
		}
	}
	if !IsNotFound(fmtWrap(&APIError{Status: 404})) || IsNotFound(&APIError{Status: 403}) {
		t.Errorf("IsNotFound does not tell a wrapped 404 from a 403")
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestSelectorAndPick(t *testing.T) {
	var s labelSelector
	s.MatchLabels = map[string]string{"b": "2", "a": "1"}
	s.MatchExpressions = append(s.MatchExpressions, struct {
		Key      string   `json:"key"`
		Operator string   `json:"operator"`
		Values   []string `json:"values"`
	}{"tier", "In", []string{"db", "proxy"}})
	if got, want := s.String(), "a=1,b=2,tier in (db,proxy)"; got != want {
		t.Errorf("selector = %q, want %q", got, want)
	}
	mk := func(name, phase, created string, ready, deleting bool) pod {
		var p pod
		p.Metadata.Name, p.Status.Phase, p.Metadata.CreationTimestamp = name, phase, created
		if deleting {
			now := "2026-12-05T00:00:00Z"
			p.Metadata.DeletionTimestamp = &now
		}
		status := "False"
		if ready {
			status = "True"
		}
		p.Status.Conditions = append(p.Status.Conditions, struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		}{"Ready", status})
		return p
	}
	pods := []pod{
		mk("pending", "Pending", "2026-12-05T03:00:00Z", false, false),
		mk("going", "Running", "2026-12-05T04:00:00Z", true, true),
		mk("old-ready", "Running", "2026-12-05T01:00:00Z", true, false),
		mk("new-unready", "Running", "2026-12-05T02:00:00Z", false, false),
	}
	if got := pick(pods); got != "old-ready" {
		t.Errorf("pick = %q, want the running, ready pod that is not going away", got)
	}
	if got := pick(pods[:2]); got != "" {
		t.Errorf("pick(pending, deleting) = %q, want none", got)
	}
}

// TestSessionStreams drives a Session against a SPDY server on the other end of a socket pair,
// as the kubelet is: a stream pair per Dial, data both ways with a half-close, and an error
// stream's message ending one connection only, as an EOF that says why.
func TestSessionStreams(t *testing.T) {
	client, server := net.Pipe()
	srv, err := spdystream.NewConnection(server, true)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(func(st *spdystream.Stream) {
		_ = st.SendReply(http.Header{}, false)
		go func() {
			switch {
			case st.Headers().Get(headerStreamType) == streamTypeError && st.Headers().Get(headerPort) == "1":
				_, _ = st.Write([]byte("dial tcp4 127.0.0.1:1: connect: connection refused"))
				_ = st.Close()
			case st.Headers().Get(headerStreamType) == streamTypeData && st.Headers().Get(headerPort) == "1":
				time.Sleep(10 * time.Millisecond)
				_ = st.Close()
			case st.Headers().Get(headerStreamType) == streamTypeData: // an echo that ends with the client
				b, _ := io.ReadAll(st)
				_, _ = st.Write(b)
				_ = st.Close()
			}
		}()
	})
	s, err := newSession("pod-a", SPDY, client)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		srv.Close()
		server.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	echo, err := s.Dial(ctx, 3306)
	if err != nil {
		t.Fatal(err)
	}
	refused, err := s.Dial(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(refused)
	var se *StreamError
	if !errors.As(err, &se) || !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "pod pod-a port 1: dial tcp4 127.0.0.1:1: connect: connection refused") {
		t.Errorf("reading a refused connection = %v, want a StreamError that is an EOF and says why", err)
	}
	refused.Close()

	if _, err := echo.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := echo.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(echo); err != nil || string(b) != "hello" {
		t.Errorf("echo after the other connection's error = %q, %v; want hello", b, err)
	}
	echo.Close()
	select {
	case <-s.Done():
		t.Errorf("the session ended with one connection's error")
	default:
	}
}
