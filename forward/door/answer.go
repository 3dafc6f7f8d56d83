package door

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// maxReplay bounds what a client may send before the database first answers and still have
// it sent again to another back end: the opening of a database protocol is a few hundred bytes.
const maxReplay = 64 << 10

// errSilentBackend means a back end ended a connection without a byte: the pod refused the
// stream (its error stream says why), or the process behind the port is gone.
var errSilentBackend = errors.New("the back end closed the connection before the database answered")

// answeredBackend connects p's client to a back end whose database has answered. Until the
// database's first bytes come, what the client sends is kept: a back end that ends before
// answering (kubectl's pod is gone) is reported dead and replaced by the next one, which is
// sent the same bytes, so the client never sees the reconnect. After the first answer the
// relay is a plain one.
func (d *Door) answeredBackend(p *connPair, deadline time.Time) (net.Conn, error) {
	client := p.client
	var said []byte
	for {
		backend, gen, err := d.dialBackend(deadline)
		if err != nil {
			return nil, err
		}
		if !d.setBackend(p, backend) {
			backend.Close()
			return nil, errors.New("the forward ended")
		}
		head, err := d.firstAnswer(client, backend, &said)
		if err == nil {
			if _, err := client.Write(head); err != nil {
				backend.Close()
				return nil, fmt.Errorf("writing to the client: %w", err)
			}
			d.count.bytesOut.Add(int64(len(head)))
			d.count.touch()
			return backend, nil
		}
		backend.Close()
		if !errors.Is(err, errSilentBackend) {
			return nil, err
		}
		d.backendFailed(gen, err.Error())
		if len(said) > maxReplay {
			return nil, fmt.Errorf("%w, after the client had sent more than %d bytes, too many to send again", err, maxReplay)
		}
	}
}

// firstAnswer sends said to backend, then relays what the client sends (appending it to said)
// until the backend's first bytes, which it returns. It returns errSilentBackend when the
// back end ends without a byte, and another error when the client has gone.
func (d *Door) firstAnswer(client, backend net.Conn, said *[]byte) ([]byte, error) {
	if len(*said) > 0 {
		if _, err := backend.Write(*said); err != nil {
			return nil, errSilentBackend
		}
	}
	clientErr := make(chan error, 1)
	go func() { clientErr <- d.keepClient(client, backend, said) }()
	head := make([]byte, 32<<10)
	n, err := backend.Read(head)
	// Stop reading the client: from here on the relay (or the next back end) does.
	_ = client.SetReadDeadline(time.Now())
	cerr := <-clientErr
	_ = client.SetReadDeadline(time.Time{})
	switch {
	case n > 0:
		return head[:n], nil
	case cerr != nil && !errors.Is(cerr, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("the client left before the database answered: %w", cerr)
	case err == nil || errors.Is(err, io.EOF) || isConnFailure(err):
		return nil, errSilentBackend
	}
	return nil, fmt.Errorf("reading the back end: %w", err)
}

// keepClient copies what the client sends to backend, keeping up to maxReplay+1 bytes of it in
// said, until the client's read deadline says stop or either side fails. A client's end is
// passed on to the back end at once; one that said nothing (a port scan, a connection test)
// waits for no answer, so the back end's read is cut short too and the relay ends.
func (d *Door) keepClient(client, backend net.Conn, said *[]byte) error {
	buf := make([]byte, 16<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			d.count.bytesIn.Add(int64(n))
			if len(*said) <= maxReplay {
				*said = append(*said, buf[:min(n, maxReplay+1-len(*said))]...)
			}
			_, _ = backend.Write(buf[:n]) // a dead back end is the reader's to notice
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				closeWrite(backend)
				if len(*said) == 0 {
					_ = backend.SetReadDeadline(time.Now())
				}
				return errClientLeft
			}
			return err
		}
	}
}

// errClientLeft means the client closed its side before the database's first bytes.
var errClientLeft = errors.New("it closed the connection")

// isConnFailure reports a connection the other side broke (reset, refused), not a deadline.
func isConnFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
