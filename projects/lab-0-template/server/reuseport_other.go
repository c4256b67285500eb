//go:build !linux

package server

import (
	"errors"
	"syscall"
)

func reusePort(_, _ string, _ syscall.RawConn) error {
	return errors.New("server: SO_REUSEPORT is only wired up on Linux in this lab")
}
