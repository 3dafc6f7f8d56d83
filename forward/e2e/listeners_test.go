package e2e_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// processTree returns pid and every descendant of it, from /proc.
func processTree(t testing.TB, pid int) []int {
	t.Helper()
	parents := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after its closing paren.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parents[ppid] = append(parents[ppid], child)
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, parents[tree[i]]...)
	}
	return tree
}

// socketInodes returns the inodes of the sockets that the processes pids hold open.
func socketInodes(pids []int) map[string]bool {
	inodes := map[string]bool{}
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
				inodes[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	return inodes
}

// listeningTCP returns the local ports of the listening TCP sockets (IPv4 and IPv6) among
// inodes, with the address each listens on.
func listeningTCP(t *testing.T, inodes map[string]bool) map[string]int {
	t.Helper()
	found := map[string]int{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			f := strings.Fields(sc.Text())
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A: LISTEN
				continue
			}
			addr, portHex, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseInt(portHex, 16, 32)
			found[addr+":"+strconv.Itoa(int(port))] = int(port)
		}
		f.Close()
	}
	return found
}

// listeningUnix returns the paths of the listening Unix sockets among inodes.
func listeningUnix(t *testing.T, inodes map[string]bool) []string {
	t.Helper()
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		f := strings.Fields(sc.Text())
		if len(f) < 7 || !inodes[f[6]] || f[3] != "00010000" { // __SO_ACCEPTCON: listening
			continue
		}
		path := ""
		if len(f) > 7 {
			path = f[7]
		}
		paths = append(paths, path)
	}
	return paths
}

// TestNothingListensButTheDoor looks at every socket that the agent and all its children
// (the kubectl proxy, the simulation) listen on while a real and a simulated forward run: the
// only TCP ports are the forwards' handles, on loopback; every Unix socket sits in a directory
// that only the owner may enter. Then another uid tries every one of those TCP ports, and is
// refused before it hears a byte.
func TestNothingListensButTheDoor(t *testing.T) {
	u := newUser(t, 33606)
	real := portOf(u.mustForward())
	sim := u.env
	u.env = append(slices.Clone(sim), "RHIZOME_SIMULATE=true")
	simulated := portOf(u.mustForward())
	u.env = sim
	handles := map[int]bool{}
	for _, p := range []string{real, simulated} {
		n, _ := strconv.Atoi(p)
		handles[n] = true
	}

	pids := processTree(t, u.agentPID())
	if len(pids) < 3 {
		t.Fatalf("the agent's process tree is %v, want the agent, its kubectl proxy and the simulation", pids)
	}
	inodes := socketInodes(pids)
	tcp := listeningTCP(t, inodes)
	for key, port := range tcp {
		addr := key[:strings.LastIndexByte(key, ':')]
		if !handles[port] {
			t.Errorf("the agent's process tree listens on %s, which is no forward's handle (%v)", key, handles)
		}
		if !strings.HasPrefix(addr, "0100007F") && addr != "00000000000000000000000001000000" {
			t.Errorf("a handle listens on %s, not loopback", key)
		}
	}
	if len(tcp) < 2 {
		t.Errorf("listening TCP sockets %v, want both handles", tcp)
	}
	unix := listeningUnix(t, inodes)
	if len(unix) < 4 { // the agent's, a forward socket each, the kubectl proxy's, the simulation's
		t.Errorf("listening Unix sockets %q, want the agent's, the forwards', the proxy's and the simulation's", unix)
	}
	for _, path := range unix {
		dir := filepath.Dir(path)
		if strings.Contains(path, ".s.PGSQL.") {
			dir = filepath.Dir(dir)
		}
		fi, err := os.Lstat(dir)
		if err != nil {
			t.Errorf("socket %s: %v", path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 || int(st.Uid) != os.Getuid() {
			t.Errorf("socket %s sits in %s, mode %v owner %d; want a 0700 directory of uid %d", path, dir, fi.Mode(), st.Uid, os.Getuid())
		}
	}
	t.Logf("listening: TCP %v, Unix %q", tcp, unix)

	for _, port := range tcp {
		// Another uid connects and reads what comes: the door closes on it unread.
		out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d && timeout 5 cat <&3 | wc -c", port)).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "0" {
			t.Errorf("uid 65534 on port %d read %q, %v; want the connection closed with nothing said", port, out, err)
		}
	}
	if err := selectOne(real); err != nil {
		t.Errorf("the owner through the real forward after the other uid's tries: %v", err)
	}
}
