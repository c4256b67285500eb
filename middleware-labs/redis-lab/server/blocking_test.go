package server

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func blockedClients(t *testing.T, rdb *redis.Client) int {
	info := rdb.Info(context.Background(), "clients").Val()
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "blocked_clients:"); ok {
			var n int
			_, err := fmt.Sscan(v, &n)
			require.NoError(t, err, "blocked_clients:%s", v)
			return n
		}
	}
	t.Fatalf("no blocked_clients in INFO: %q", info)
	return 0
}

func waitBlocked(t *testing.T, rdb *redis.Client, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return blockedClients(t, rdb) == n }, 5*time.Second, 5*time.Millisecond)
}

func TestBlockingErrors(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	runSteps(t, rdb, []step{
		{args: []any{"SET", "str", "x"}, want: "OK"},
		{args: []any{"BLPOP", "k", "-1"}, wantErr: "ERR timeout is negative"},
		{args: []any{"BLPOP", "k", "abc"}, wantErr: "ERR timeout is not a float or out of range"},
		{args: []any{"BLPOP", "str", "0.01"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"BLPOP", "k"}, wantErr: "ERR wrong number of arguments for 'blpop' command"},
		{args: []any{"BLMOVE", "a", "b", "UP", "LEFT", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"RPUSH", "l", "1", "2"}, want: int64(2)},
		{args: []any{"BLMOVE", "l", "str", "LEFT", "LEFT", "0"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"BRPOP", "empty", "l", "0"}, want: []any{"l", "2"}},
		{args: []any{"BLPOP", "l", "0"}, want: []any{"l", "1"}},
		{args: []any{"EXISTS", "l"}, want: int64(0)},
		{args: []any{"BLPOP", "l", "0.05"}},
		{args: []any{"BLMOVE", "l", "d", "LEFT", "RIGHT", "0.05"}},
		{args: []any{"RPUSH", "l", "a", "b"}, want: int64(2)},
		{args: []any{"LMOVE", "l", "d", "RIGHT", "LEFT"}, want: "b"},
		{args: []any{"LMOVE", "nokey", "d", "RIGHT", "LEFT"}},
		{args: []any{"LRANGE", "d", "0", "-1"}, want: []any{"b"}},
	})
}

// TestBlockingTimeout: a finite timeout answers null after about that long.
func TestBlockingTimeout(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 3)
	ctx := context.Background()
	begin := time.Now()
	// Through Do: go-redis rounds BLPop's timeout up to a second.
	assert.ErrorIs(t, rdb.Do(ctx, "BLPOP", "k", "0.2").Err(), redis.Nil)
	took := time.Since(begin)
	assert.GreaterOrEqual(t, took, 200*time.Millisecond)
	assert.Less(t, took, 2*time.Second)
	assert.Equal(t, 0, blockedClients(t, rdb))
}

// TestBlockingFIFO: clients blocked on a key are served in the order they blocked, and each
// one's pop is atomic with the push that woke it.
func TestBlockingFIFO(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	admin := newRedis(t, addr, 2)
	type got struct {
		i   int
		val []string
		err error
	}
	results := make(chan got, 3)
	for i := range 3 {
		c := newRedis(t, addr, 2)
		go func() {
			v, err := c.BLPop(ctx, 0, "other", "q").Result()
			results <- got{i, v, err}
		}()
		waitBlocked(t, admin, i+1)
	}
	require.NoError(t, admin.RPush(ctx, "q", "a", "b", "c", "d").Err())
	byClient := map[int][]string{}
	for range 3 {
		r := <-results
		require.NoError(t, r.err)
		byClient[r.i] = r.val
	}
	assert.Equal(t, map[int][]string{0: {"q", "a"}, 1: {"q", "b"}, 2: {"q", "c"}}, byClient)
	assert.Equal(t, []string{"d"}, admin.LRange(ctx, "q", 0, -1).Val())
}

func TestBLMoveWakes(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	admin := newRedis(t, addr, 2)
	waiter := newRedis(t, addr, 2)
	done := make(chan string, 1)
	go func() { done <- waiter.BLMove(ctx, "src", "dst", "RIGHT", "LEFT", 0).Val() }()
	waitBlocked(t, admin, 1)
	require.NoError(t, admin.LPush(ctx, "src", "x").Err())
	assert.Equal(t, "x", <-done)
	assert.Equal(t, []string{"x"}, admin.LRange(ctx, "dst", 0, -1).Val())
	assert.Equal(t, int64(0), admin.Exists(ctx, "src").Val())
	// Blocking inside MULTI answers at once, as if it had timed out.
	cmds, err := admin.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.BLPop(ctx, 0, "nothing")
		return nil
	})
	assert.ErrorIs(t, err, redis.Nil)
	require.Len(t, cmds, 1)
}

// TestBlockingReleasedOnDisconnect: timeout 0 is for ever, but a client that goes away is
// unblocked and forgotten.
func TestBlockingReleasedOnDisconnect(t *testing.T) {
	_, addr := start(t, Config{})
	admin := newRedis(t, addr, 2)
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = fmt.Fprint(conn, "*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n")
	require.NoError(t, err)
	waitBlocked(t, admin, 1)
	require.NoError(t, conn.Close())
	waitBlocked(t, admin, 0)
	require.NoError(t, admin.RPush(context.Background(), "k", "v").Err())
	assert.Equal(t, int64(1), admin.LLen(context.Background(), "k").Val(), "nobody popped for the gone client")
}

// TestBlockingReleasedOnShutdown: a client blocked for ever does not hold up Close.
func TestBlockingReleasedOnShutdown(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	done := make(chan error, 1)
	go func() { done <- rdb.BLPop(context.Background(), 0, "k").Err() }()
	waitBlocked(t, rdb, 1)
	begin := time.Now()
	require.NoError(t, s.Close())
	assert.Less(t, time.Since(begin), time.Second)
	assert.Error(t, <-done)
}
