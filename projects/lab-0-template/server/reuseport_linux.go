package server

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return fmt.Errorf("server: reach the socket to set SO_REUSEPORT: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("server: set SO_REUSEPORT: %w", serr)
	}
	return nil
}
