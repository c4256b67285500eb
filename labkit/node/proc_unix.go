//go:build unix

package node

import "syscall"

type sig = syscall.Signal

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT
)

// signalGroup signals every process in the node's group: the node runs as
// its group's leader (Setpgid), so a negative pid reaches it and anything
// it forked, and nothing else.
func signalGroup(pid int, s sig) error {
	if err := syscall.Kill(-pid, s); err != nil {
		return err
	}
	return nil
}
