package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// apiBase is the URL of the API server through a proxy's socket. kubectl proxy accepts only
// requests for localhost (its --accept-hosts), whatever the socket.
const apiBase = "http://localhost"

// get asks the API server for path through the proxy and decodes the JSON answer into v.
func (p *Proxy) get(ctx context.Context, path string, v any) error {
	resp, err := p.do(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("reading the API server's answer to %s: %w", path, err)
	}
	return nil
}

// do sends a GET for path and returns a successful response, whose body the caller closes;
// any other answer is an *APIError.
func (p *Proxy) do(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiBase+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, p.unreachable(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	return resp, nil
}

// unreachable says why the proxy could not be asked: its kubectl's own words when it has
// exited, else the socket's error.
func (p *Proxy) unreachable(err error) error {
	if words := p.lastWords(); words != "" {
		return fmt.Errorf("kubectl proxy: %s", words)
	}
	return fmt.Errorf("kubectl proxy at %s: %w", p.socket, err)
}

// Readyz asks the API server whether it serves, cheaply: /readyz, which every user may ask.
func (p *Proxy) Readyz(ctx context.Context) error {
	resp, err := p.do(ctx, "/readyz")
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return resp.Body.Close()
}

// status is the part of a metav1.Status that says what went wrong.
type status struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// readAPIError reads a failed answer: the API server's Status object, or the plain text that
// kubectl proxy writes when it cannot reach the API server or get credentials.
func readAPIError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode, Reason: reasonFor(resp.StatusCode)}
	var st status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		e.Message = st.Message
		if st.Reason != "" {
			e.Reason = st.Reason
		}
		return e
	}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	var lines []string
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			lines = append(lines, t)
		}
	}
	e.Message = strings.Join(lines, "; ")
	return e
}

// reasonFor names an HTTP status as the API server's Status reasons do, for answers that
// carry no Status (kubectl's own words depend on them: "(Unauthorized)", "(Forbidden)").
func reasonFor(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	}
	return ""
}
