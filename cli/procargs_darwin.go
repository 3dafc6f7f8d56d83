package cli

import (
	"bytes"
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// processArgs returns the command line of process pid. macOS has no /proc: the kern.procargs2
// sysctl gives argc (a 32-bit int), the executable's path, NUL padding, then the argc words
// and the environment, each NUL-terminated.
func processArgs(pid int) ([]string, error) {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, errors.New("kern.procargs2: short answer")
	}
	argc := int(binary.NativeEndian.Uint32(b))
	rest := b[4:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return nil, errors.New("kern.procargs2: no executable path")
	}
	rest = bytes.TrimLeft(rest[i:], "\x00")
	words := splitNUL(rest)
	if len(words) < argc {
		return nil, errors.New("kern.procargs2: fewer words than argc")
	}
	return words[:argc], nil
}
