package clustertest

import (
	"bufio"
	_ "embed"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// connectScript is the connection script; @CONTROL_PORT@ is replaced with the control port.
//
//go:embed connect.sh
var connectScript string

// control is the loopback endpoint the connection script talks to. The protocol is one line
// each way: "connect INSTANCE" and "ok MESSAGE" or "error MESSAGE". Close stops it and waits for
// its goroutines.
type control struct {
	ln      net.Listener
	proxies []*proxy // one per instance
	wg      sync.WaitGroup
}

// startControl listens on a free loopback port and writes the connection script, set up for
// that port, to scriptPath.
func startControl(proxies []*proxy, scriptPath string) (*control, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting proxy control: %w", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	script := strings.ReplaceAll(connectScript, "@CONTROL_PORT@", port)
	if err := os.WriteFile(scriptPath, []byte(script), 0o755); err != nil {
		ln.Close()
		return nil, fmt.Errorf("writing connection script: %w", err)
	}
	c := &control{ln: ln, proxies: proxies}
	c.wg.Add(1)
	go c.serve()
	return c, nil
}

func (c *control) serve() {
	defer c.wg.Done()
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			return // closed
		}
		c.wg.Add(1)
		go c.handle(conn)
	}
}

func (c *control) handle(conn net.Conn) {
	defer c.wg.Done()
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	verb, instance, _ := strings.Cut(strings.TrimSpace(line), " ")
	var msg string
	switch {
	case verb != "connect":
		err = fmt.Errorf("unknown request %q", verb)
	default:
		msg, err = c.connect(instance)
	}
	if err != nil {
		fmt.Fprintf(conn, "error %v\n", err)
		return
	}
	fmt.Fprintf(conn, "ok %s\n", msg)
}

// connect starts the proxy of instance.
func (c *control) connect(instance string) (string, error) {
	for _, p := range c.proxies {
		if p.instance == instance {
			return p.connect(instance)
		}
	}
	return "", fmt.Errorf("[%s] %w", instance, errNoInstance)
}

func (c *control) close() {
	c.ln.Close()
	c.wg.Wait()
}
