package env

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// include parses, in order, the files that the patterns of an include line in the file from
// name: each a path or a glob, "~/" for the home directory, relative to from's directory. A
// glob that matches nothing is no error (a team's directory may be empty); a plain path that
// does not exist is. including is the chain of files being parsed, from included last.
func (c *Catalog) include(from string, patterns []string, including []string) error {
	for _, pattern := range patterns {
		expanded, err := expandPath(from, pattern)
		if err != nil {
			return err
		}
		paths, err := filepath.Glob(expanded)
		if err != nil {
			return fmt.Errorf("include %s: %w", pattern, err)
		}
		if len(paths) == 0 && !hasGlob(expanded) {
			return fmt.Errorf("include %s: %s does not exist", pattern, expanded)
		}
		for _, p := range paths {
			if err := c.includeFile(p, pattern, including); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Catalog) includeFile(path, pattern string, including []string) error {
	for _, f := range including {
		if sameFile(f, path) {
			return fmt.Errorf("include %s: an include cycle: %s → %s", pattern, strings.Join(including, " → "), path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("include %s: %w", pattern, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return fmt.Errorf("include %s: %s is a directory (include %s/* reads its files)", pattern, path, pattern)
	}
	if err := c.parseFile(path, f, including); err != nil {
		return &includedError{err}
	}
	return nil
}

// includedError is an error in an included file, which names that file and line already.
type includedError struct{ err error }

func (e *includedError) Error() string { return e.err.Error() }

// expandPath turns an include pattern into a path: "~" is the home directory, and a relative
// pattern is relative to the including file's directory.
func expandPath(from, pattern string) (string, error) {
	if pattern == "~" || strings.HasPrefix(pattern, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("include %s: %w", pattern, err)
		}
		return filepath.Join(home, pattern[1:]), nil
	}
	if filepath.IsAbs(pattern) {
		return filepath.Clean(pattern), nil
	}
	return filepath.Join(filepath.Dir(from), pattern), nil
}

// hasGlob tells a glob from a plain path, as filepath.Match reads it.
func hasGlob(path string) bool { return strings.ContainsAny(path, `*?[\`) }

// sameFile reports whether a and b are one file, however they are spelled (a symlink, ..).
func sameFile(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(ia, ib)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
