package node_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

// harnessEnv makes the test binary a harness that starts two nodes, writes
// their pids to <dir>/pids and waits to be killed.
const harnessEnv = "LABKIT_TEST_HARNESS_DIR"

func harness(dir string) {
	c, err := node.Start(context.Background(), node.Config{Program: os.Args[0], N: 2, Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var pids []string
	for _, n := range c.Nodes() {
		pids = append(pids, strconv.Itoa(n.Pid()))
	}
	if err := os.WriteFile(filepath.Join(dir, "pids"), []byte(strings.Join(pids, " ")), 0o644); err != nil {
		os.Exit(1)
	}
	time.Sleep(time.Minute) // bounded: the test kills this process long before
	_ = c.Close()
	os.Exit(0)
}

// dead reports whether pid is gone or a zombie: once its parent is dead, a
// zombie waits for whoever reaps orphans, which is not this test.
func dead(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// TestNoNodeOutlivesAKilledHarness: a harness killed by SIGKILL runs no
// cleanup; the parent-death signal still takes its nodes down.
func TestNoNodeOutlivesAKilledHarness(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), harnessEnv+"="+dir)
	require.NoError(t, cmd.Start())
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var pids []int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "pids"))
		if err != nil || len(b) == 0 {
			return false
		}
		pids = pids[:0]
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			require.NoError(t, err)
			pids = append(pids, pid)
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "the harness started its nodes")
	require.Len(t, pids, 2)
	t.Logf("harness pid %d, node pids %v", cmd.Process.Pid, pids)
	for _, pid := range pids {
		require.False(t, dead(pid), "node pid %d runs while its harness does", pid)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	// Wait's error is the point, not noise: it proves the harness died of
	// our SIGKILL rather than exiting on its own.
	var exitErr *exec.ExitError
	require.ErrorAs(t, <-waited, &exitErr)
	status, ok := exitErr.Sys().(syscall.WaitStatus)
	require.True(t, ok, "wait status %T", exitErr.Sys())
	require.Equal(t, syscall.SIGKILL, status.Signal(), "the harness ended by %v", exitErr)
	for _, pid := range pids {
		assert.Eventually(t, func() bool { return dead(pid) }, 10*time.Second, 10*time.Millisecond,
			"node pid %d outlived its killed harness", pid)
	}
}
