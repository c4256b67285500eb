//go:build linux

package node

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// sysProcAttr puts the node in its own process group and asks the kernel to
// kill it if the harness dies first: a harness killed by SIGKILL runs no
// cleanup, and a node must not outlive it holding a port.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitState waits until the kernel reports the process stopped (want true)
// or running again: SIGSTOP is delivered asynchronously, and a Pause that
// returned before the node froze would let a scenario race its own fault.
func waitState(pid int, stopped bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return err
		}
		// The state follows the command name, which is in parentheses and
		// may itself contain spaces or parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return fmt.Errorf("unexpected /proc/%d/stat: %q", pid, b)
		}
		state := b[i+2]
		if (state == 'T' || state == 't') == stopped {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d is in state %c after %v", pid, state, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}
