//go:build linux

package node

import "syscall"

// sysProcAttr puts the node in its own process group and asks the kernel to
// kill it if the harness dies first: a harness killed by SIGKILL runs no
// cleanup, and a node must not outlive it holding a port.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
