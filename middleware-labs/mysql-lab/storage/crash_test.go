package storage

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test binary is also the crashing process: with STORAGE_CRASH_CHILD_DIR
// set, TestMain runs crashChild instead of the tests.
const childDirEnv = "STORAGE_CRASH_CHILD_DIR"

func isCrashChild() bool { return os.Getenv(childDirEnv) != "" }

// crashChild commits transactions from four writers until it is killed. Each
// transaction writes two rows, a/R/W/I and b/R/W/I (R the round), and only
// after Commit returns prints "ack R/W/I": the parent's list of acknowledged
// commits. Each writer also keeps a transaction open with writes it never
// commits, and rolls another back, so there is uncommitted data to lose.
func crashChild() {
	dir, round := os.Getenv(childDirEnv), os.Getenv("STORAGE_CRASH_ROUND")
	e, err := Open(context.Background(), Options{Dir: dir, PageSize: 4096, PoolFrames: 64, CheckpointEvery: 20 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	if round == "1" {
		if err := e.CreateTree("t"); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
	}
	fmt.Printf("ready %d\n", e.Stats().RecoveredRecords)
	var out sync.Mutex
	ctx := context.Background()
	val := strings.Repeat("v", 100)
	for w := 0; w < 4; w++ {
		go func() {
			open := e.Begin()
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s/%d/%06d", round, w, i)
				_ = open.Put(ctx, "t", []byte("u/"+id), []byte("never committed"))
				rb := e.Begin()
				_ = rb.Put(ctx, "t", []byte("r/"+id), []byte("rolled back"))
				_ = rb.Rollback()
				tx := e.Begin()
				if err := tx.Put(ctx, "t", []byte("a/"+id), []byte(val+id)); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(3)
				}
				if err := tx.Put(ctx, "t", []byte("b/"+id), []byte(id)); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(3)
				}
				if err := tx.Commit(ctx); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Printf("ack %s\n", id)
				out.Unlock()
			}
		}()
	}
	select {}
}

// runUntilKilled starts a child on dir, lets it acknowledge at least acks
// commits, then kills it with SIGKILL mid-load. It returns what was acked.
func runUntilKilled(t *testing.T, dir string, round, acks int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir, "STORAGE_CRASH_ROUND="+strconv.Itoa(round))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var acked []string
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "ack "); ok {
			acked = append(acked, id)
			if len(acked) == acks {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal(), "the child must die by SIGKILL, not by an error")
	require.GreaterOrEqual(t, len(acked), acks)
	return acked
}

// TestKillNineLosesNoAcknowledgedCommit kills a child process with SIGKILL
// while four writers commit (and while the flusher checkpoints every 20 ms
// through a 64-frame pool), three times over the same directory, and proves
// after each crash: every acknowledged commit is there with its value, each
// transaction is all or nothing, and nothing uncommitted or rolled back is.
func TestKillNineLosesNoAcknowledgedCommit(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var allAcked []string
	for round := 1; round <= 3; round++ {
		allAcked = append(allAcked, runUntilKilled(t, dir, round, 200)...)

		e, err := Open(ctx, Options{Dir: dir, PageSize: 4096, PoolFrames: 64})
		require.NoError(t, err)
		st := e.Stats()
		tx := e.Begin()
		rows := map[string]string{}
		require.NoError(t, tx.Scan(ctx, "t", nil, nil, func(k, v []byte) bool {
			rows[string(k)] = string(v)
			return true
		}))
		val := strings.Repeat("v", 100)
		for _, id := range allAcked {
			require.Equal(t, val+id, rows["a/"+id], "acknowledged commit %s lost its first row", id)
			require.Equal(t, id, rows["b/"+id], "acknowledged commit %s lost its second row", id)
		}
		extra := 0
		for k := range rows {
			kind, id, _ := strings.Cut(k, "/")
			require.Contains(t, []string{"a", "b"}, kind, "uncommitted or rolled-back row %q survived", k)
			other := map[string]string{"a": "b/", "b": "a/"}[kind] + id
			require.Contains(t, rows, other, "half a transaction: %q without %q", k, other)
			if kind == "a" {
				extra++
			}
		}
		extra -= len(allAcked) // committed but killed before the ack was printed (this round or earlier): allowed
		n, err := e.TreeLen("t")
		require.NoError(t, err)
		require.Equal(t, int64(len(rows)), n)
		require.NoError(t, e.Close())
		t.Logf("round %d: %d acknowledged commits present, %d more committed but never acknowledged, %d redo records replayed in %v",
			round, len(allAcked), extra, st.RecoveredRecords, st.RecoveryTime)
	}
}
