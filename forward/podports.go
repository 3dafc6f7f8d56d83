package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// podPortsFile is the file in the state directory that remembers, for each instance, the pod
// port its proxy last answered on.
const podPortsFile = "pod-ports.json"

// podPorts remembers, per instance behind a deployment, the pod port on which its proxy last
// carried a greeting, so that the next start of that forward (in this agent or the next one)
// can start its port-forward at once instead of reading the pod's log first. What it remembers
// is only a guess: a forward is ready only once a greeting came through, and a guess that
// brings none is forgotten.
//
// A podPorts with an empty path remembers only in memory. Safe for concurrent use.
type podPorts struct {
	path string // the JSON file; "" keeps nothing on disk

	mu     sync.Mutex
	loaded bool
	ports  map[string]int
}

func newPodPorts(stateDir string) *podPorts {
	p := &podPorts{ports: map[string]int{}}
	if stateDir != "" {
		p.path = filepath.Join(stateDir, podPortsFile)
	}
	return p
}

// podPortKey names one instance behind one deployment of one cluster.
func podPortKey(r Request) string {
	return strings.Join([]string{r.Kubeconfig, r.Context, r.Namespace, r.Deployment, r.SQLConnection}, "\x00")
}

// get returns the remembered port for key, or 0.
func (p *podPorts) get(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loadLocked()
	return p.ports[key]
}

// set remembers port for key (0 forgets it) and writes the file when that changed anything.
// A file that cannot be written only costs the next start its head start, so the error is
// for the log.
func (p *podPorts) set(key string, port int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loadLocked()
	if p.ports[key] == port {
		return nil
	}
	if port == 0 {
		delete(p.ports, key)
	} else {
		p.ports[key] = port
	}
	return p.saveLocked()
}

// loadLocked reads the file once; a missing or unreadable file means nothing is remembered.
func (p *podPorts) loadLocked() {
	if p.loaded || p.path == "" {
		return
	}
	p.loaded = true
	b, err := os.ReadFile(p.path)
	if err != nil {
		return
	}
	var entries []podPortEntry
	if json.Unmarshal(b, &entries) != nil {
		return
	}
	for _, e := range entries {
		if e.Port > 0 && e.Port < 65536 {
			p.ports[e.key()] = e.Port
		}
	}
}

// podPortEntry is one line of the file, with the names spelled out for a person reading it.
type podPortEntry struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context"`
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	Instance   string `json:"instance"`
	Port       int    `json:"pod_port"`
}

func (e podPortEntry) key() string {
	return podPortKey(Request{Kubeconfig: e.Kubeconfig, Context: e.Context, Namespace: e.Namespace,
		Deployment: e.Deployment, SQLConnection: e.Instance})
}

// saveLocked writes every remembered port, through a temporary file renamed into place so that
// a reader never sees half a file.
func (p *podPorts) saveLocked() error {
	if p.path == "" {
		return nil
	}
	entries := make([]podPortEntry, 0, len(p.ports))
	for k, port := range p.ports {
		f := strings.Split(k, "\x00")
		if len(f) != 5 {
			continue
		}
		entries = append(entries, podPortEntry{f[0], f[1], f[2], f[3], f[4], port})
	}
	slices.SortFunc(entries, func(a, b podPortEntry) int { return strings.Compare(a.key(), b.key()) })
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("remembering the pod port: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.path), podPortsFile+".*")
	if err != nil {
		return fmt.Errorf("remembering the pod port: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), p.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("remembering the pod port: %w", err)
	}
	return nil
}
