package kube

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownedPrivateDir says what is wrong with fi as a private directory of ours, if anything.
func ownedPrivateDir(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("it is a symbolic link")
	case !fi.IsDir():
		return fmt.Errorf("it is not a directory")
	case !ok:
		return fmt.Errorf("cannot tell its owner") // fail closed
	case int(st.Uid) != os.Getuid():
		return fmt.Errorf("it belongs to uid %d, not to you (uid %d)", st.Uid, os.Getuid())
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("its mode %04o lets others in", fi.Mode().Perm())
	}
	return nil
}
