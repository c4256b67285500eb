//go:build unix && !linux

package node

import "syscall"

// sysProcAttr puts the node in its own process group. Only Linux has a
// parent-death signal; elsewhere a harness killed by SIGKILL leaves its
// nodes for the learner to kill (their group id is in node.log).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
