package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rtnetlink tells of link, address and route changes in the network namespace that was the
// calling thread's when it was opened.
type rtnetlink struct {
	f   *os.File // through the poller, so reads take deadlines and close ends them
	buf []byte
}

func openNetEvents() (netEvents, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("watching the network: %w", err)
	}
	groups := uint32(unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV4_ROUTE | unix.RTMGRP_IPV6_ROUTE)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watching the network: %w", err)
	}
	return &rtnetlink{f: os.NewFile(uintptr(fd), "rtnetlink"), buf: make([]byte, 64<<10)}, nil
}

func (r *rtnetlink) next(ctx context.Context, d time.Duration) bool {
	stop := context.AfterFunc(ctx, func() { _ = r.f.SetReadDeadline(time.Now()) })
	defer stop()
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	if err := r.f.SetReadDeadline(deadline); err != nil || ctx.Err() != nil {
		return false
	}
	_, err := r.f.Read(r.buf)
	// ENOBUFS: the kernel dropped messages we were too slow for; still a change.
	return ctx.Err() == nil && (err == nil || errors.Is(err, syscall.ENOBUFS))
}

func (r *rtnetlink) close() { r.f.Close() }
