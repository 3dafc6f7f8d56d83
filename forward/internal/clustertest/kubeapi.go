package clustertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// errNotFound is what kubeAPI.do returns for HTTP 404.
var errNotFound = errors.New("clustertest: not found")

// kubeAPI is the package's own small client for the API server's REST interface, so that setting
// up and changing the cluster needs neither client-go nor a kubectl run per object. Safe for
// concurrent use.
type kubeAPI struct {
	base string // https://127.0.0.1:PORT
	hc   *http.Client
}

func newKubeAPI(base string, tlsConfig *tls.Config) *kubeAPI {
	return &kubeAPI{
		base: base,
		hc: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: tlsConfig},
		},
	}
}

// do sends body (if not nil) as JSON and decodes a 2xx answer into out (if not nil).
func (a *kubeAPI) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s %s: %w", method, path, errNotFound)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	case out != nil:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
		}
	}
	return nil
}

// close drops idle connections.
func (a *kubeAPI) close() { a.hc.CloseIdleConnections() }

// poll calls check every 50 ms until it returns nil, returns a permanent error, or ctx ends.
// A failure reports check's last error, which says what was still missing.
func poll(ctx context.Context, what string, check func() error) error {
	const interval = 50 * time.Millisecond
	for {
		err := check()
		if err == nil {
			return nil
		}
		var p permanentError
		if errors.As(err, &p) {
			return fmt.Errorf("waiting for %s: %w", what, p.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}

// permanentError makes poll give up at once.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }
