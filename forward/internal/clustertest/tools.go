package clustertest

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrToolsMissing reports that a binary the cluster needs is not installed or not built.
var ErrToolsMissing = errors.New("clustertest: tools missing: run scripts/kube-tools")

// BinDirEnv names the environment variable that points at the folder holding kube-apiserver,
// etcd and kwok, overriding the default under the repository's .cache.
const BinDirEnv = "RHIZOME_KUBE_BIN"

// tools holds absolute paths of the programs a Cluster runs.
type tools struct {
	etcd, apiserver, kwok string
	mariadbd, installDB   string
	postgres, initdb      string
	psql                  string
}

// findTools locates the programs, preferring binDir when it is set.
func findTools(binDir string) (tools, error) {
	if binDir == "" {
		binDir = os.Getenv(BinDirEnv)
	}
	if binDir == "" {
		d, err := defaultBinDir()
		if err != nil {
			return tools{}, err
		}
		binDir = d
	}
	t := tools{
		etcd:      filepath.Join(binDir, "etcd"),
		apiserver: filepath.Join(binDir, "kube-apiserver"),
		kwok:      filepath.Join(binDir, "kwok"),
	}
	for _, p := range []string{t.etcd, t.apiserver, t.kwok} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return tools{}, fmt.Errorf("%w (no executable %s)", ErrToolsMissing, p)
		}
	}
	var err error
	if t.mariadbd, err = lookSbin("mariadbd"); err != nil {
		return tools{}, err
	}
	if t.installDB, err = lookSbin("mariadb-install-db"); err != nil {
		return tools{}, err
	}
	for _, p := range []struct {
		path *string
		name string
	}{{&t.postgres, "postgres"}, {&t.initdb, "initdb"}, {&t.psql, "psql"}} {
		if *p.path, err = lookPostgres(p.name); err != nil {
			return tools{}, err
		}
	}
	return t, nil
}

// lookPostgres finds a PostgreSQL program on PATH or where Debian's packages put the server's,
// /usr/lib/postgresql/VERSION/bin (the newest version there).
func lookPostgres(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	slices.SortFunc(found, func(a, b string) int { return cmp.Compare(pgVersion(a), pgVersion(b)) })
	if len(found) > 0 {
		return found[len(found)-1], nil
	}
	return "", fmt.Errorf("%w (no %s: PostgreSQL from Debian, postgresql)", ErrToolsMissing, name)
}

// pgVersion is the major version in a /usr/lib/postgresql/VERSION/bin path.
func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// lookSbin finds a program on PATH or in the sbin folders a non-login PATH can lack.
func lookSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (no %s: MariaDB from Debian)", ErrToolsMissing, name)
}

// defaultBinDir is where scripts/kube-tools puts the binaries for the versions it names.
func defaultBinDir() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	v, err := readVersions(filepath.Join(root, "scripts", "kube-versions"))
	if err != nil {
		return "", err
	}
	key := v["K8S_VERSION"] + "-" + v["ETCD_VERSION"] + "-" + v["KWOK_VERSION"]
	return filepath.Join(root, ".cache", "kube", key, "bin"), nil
}

// repoRoot walks up from the working directory (a test's package folder) to the folder that
// holds scripts/kube-versions.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "kube-versions")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w (no scripts/kube-versions above the working directory; set %s)", ErrToolsMissing, BinDirEnv)
		}
		dir = parent
	}
}

// readVersions parses the KEY=VALUE lines of scripts/kube-versions.
func readVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading tool versions: %w", err)
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k] = val
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading tool versions: %w", err)
	}
	for _, k := range []string{"K8S_VERSION", "ETCD_VERSION", "KWOK_VERSION"} {
		if v[k] == "" {
			return nil, fmt.Errorf("reading tool versions: %s has no %s", path, k)
		}
	}
	return v, nil
}
