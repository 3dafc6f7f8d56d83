package safesocket

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// MakePrivateDir makes dir, mode 0700, when it is missing, and then checks it as CheckPrivateDir
// does: a directory someone else made first is refused, never adopted.
func MakePrivateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	return CheckPrivateDir(dir)
}

// CheckPrivateDir says why dir is not a private directory of the user's (a directory, not a
// symlink, owned by the user, that no one else may enter), nil if it is. One whose owner
// cannot be told is refused.
func CheckPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory (a symlink or a file?): remove it and ask again", dir)
	}
	st, err := lstat(dir)
	if err != nil {
		return fmt.Errorf("%s: cannot tell its owner (%v): remove it and ask again", dir, err)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to you: remove it and ask again", dir, st.Uid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s is open to other users (mode %04o): chmod 700 %s", dir, perm, dir)
	}
	return nil
}
