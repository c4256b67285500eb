//go:build unix && !linux

package node

import (
	"syscall"
	"time"
)

// sysProcAttr puts the node in its own process group. Only Linux has a
// parent-death signal; elsewhere a harness killed by SIGKILL leaves its
// nodes for the learner to kill (their group id is in node.log).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// waitState is a no-op where there is no /proc to read: the signal is
// sent, and delivered soon after.
func waitState(int, bool, time.Duration) error { return nil }
