package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/aof"
)

// runAOFChild is the body of the child process TestAOFSurvivesKill9 kills: a server with
// appendfsync always.
func runAOFChild(addr, path string) int {
	s, err := New(Config{AOFPath: path, AOFPolicy: aof.Always})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.ListenAndServe(context.Background(), addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startChild(t *testing.T, addr, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MINIREDIS_AOF_CHILD="+addr, "MINIREDIS_AOF_PATH="+path)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "child server did not start")
	return cmd
}

// TestAOFSurvivesKill9 kills a server (SIGKILL) while clients are writing, restarts it on the
// same AOF and checks that no acknowledged write was lost under appendfsync always. Then it
// tears the file's last command in half, as a crash during write(2) or a power loss can, and
// checks that the restart truncates the tail and keeps everything before it.
func TestAOFSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "appendonly.aof")
	addr := freeAddr(t)
	child := startChild(t, addr, path)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	acked := make(chan int64, 1)
	go func() {
		var last int64
		for {
			n, err := rdb.Incr(ctx, "counter").Result()
			if err != nil {
				acked <- last
				return
			}
			last = n
			rdb.Set(ctx, "w:"+strconv.FormatInt(n, 10), n, 0)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	last := <-acked
	rdb.Close()
	require.Positive(t, last)

	child = startChild(t, addr, path)
	rdb = redis.NewClient(&redis.Options{Addr: addr})
	got, err := rdb.Get(ctx, "counter").Int64()
	require.NoError(t, err)
	// The INCR in flight at the kill may have reached the file without its reply reaching us.
	assert.GreaterOrEqual(t, got, last, "an acknowledged INCR was lost")
	assert.LessOrEqual(t, got, last+1)
	rdb.Close()
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()

	// Tear the tail: append half of a command.
	before, err := os.Stat(path)
	require.NoError(t, err)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("*3\r\n$3\r\nSET\r\n$7\r\ncounter\r\n$5\r\n99")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	child = startChild(t, addr, path)
	defer func() {
		// Kill fails only if the child has already exited; Wait reaps it either way.
		_ = child.Process.Kill()
		_ = child.Wait()
	}()
	rdb = redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	got2, err := rdb.Get(ctx, "counter").Int64()
	require.NoError(t, err)
	assert.Equal(t, got, got2, "the torn SET was dropped, the rest replayed")
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, before.Size(), after.Size(), "the truncated tail was cut off the file")
}

// TestAOFRewritesRelativeExpiry checks that replay does not extend TTLs: EX/EXPIRE are logged
// as absolute PXAT/PEXPIREAT, and expirations are logged as DEL.
func TestAOFRewritesRelativeExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	path := filepath.Join(t.TempDir(), "a.aof")
	s, addr := start(t, Config{Clock: clk.Now, AOFPath: path, AOFPolicy: aof.Always, ActiveExpireEvery: -1})
	rdb := newRedis(t, addr, 2)
	ctx := context.Background()
	require.NoError(t, rdb.Set(ctx, "a", "1", 10*time.Second).Err())
	require.NoError(t, rdb.Set(ctx, "b", "1", 0).Err())
	require.True(t, rdb.Expire(ctx, "b", 5*time.Second).Val())
	clk.Advance(6 * time.Second)
	require.Equal(t, int64(0), rdb.Exists(ctx, "b").Val())
	require.NoError(t, rdb.Close())
	s.Close()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(b)
	assert.Contains(t, text, "PXAT\r\n$13\r\n1700000010000\r\n")
	assert.Contains(t, text, "PEXPIREAT\r\n$1\r\nb\r\n$13\r\n1700000005000\r\n")
	assert.Contains(t, text, "*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n")
	// Replay: a keeps its original deadline instead of getting a fresh 10 s.
	s2, err := New(Config{Clock: clk.Now, AOFPath: path, ActiveExpireEvery: -1})
	require.NoError(t, err)
	s2.Lock()
	at, ok := s2.DB().TTL("a")
	s2.Unlock()
	require.True(t, ok)
	assert.Equal(t, int64(1700000010000), at)
	assert.False(t, s2.DB().Exists("b"))
	require.NoError(t, s2.closeAOF())
}
