package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
)

func TestPubSub(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			_, addr := start(t, Config{})
			rdb := newRedis(t, addr, proto)
			ctx := context.Background()
			sub := rdb.Subscribe(ctx, "news")
			defer sub.Close()
			_, err := sub.Receive(ctx) // subscription confirmation
			require.NoError(t, err)
			psub := rdb.PSubscribe(ctx, "n*")
			defer psub.Close()
			_, err = psub.Receive(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(2), rdb.Publish(ctx, "news", "hello").Val())
			msg, err := sub.ReceiveMessage(ctx)
			require.NoError(t, err)
			assert.Equal(t, "news", msg.Channel)
			assert.Equal(t, "hello", msg.Payload)
			pmsg, err := psub.ReceiveMessage(ctx)
			require.NoError(t, err)
			assert.Equal(t, "n*", pmsg.Pattern)
			assert.Equal(t, "hello", pmsg.Payload)
			assert.Equal(t, map[string]int64{"news": 1}, rdb.PubSubNumSub(ctx, "news").Val())
			require.NoError(t, sub.Unsubscribe(ctx, "news"))
			require.Eventually(t, func() bool { return rdb.PubSubNumSub(ctx, "news").Val()["news"] == 0 }, 2*time.Second, 10*time.Millisecond)
		})
	}
}

func TestSubscribedContextRejectsCommands(t *testing.T) {
	_, addr := start(t, Config{})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	fmt.Fprint(conn, "SUBSCRIBE c\r\nGET k\r\n")
	for i := 0; i < 6; i++ { // *3, $9, subscribe, $1, c, :1
		_, err := br.ReadString('\n')
		require.NoError(t, err)
	}
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n", line)
}

func TestMultiExecWatch(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	rdb := newRedis(t, addr, 3)
	other := newRedis(t, addr, 2)
	// A transaction runs atomically and returns every reply.
	cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k", "1", 0)
		p.Incr(ctx, "k")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), cmds[1].(*redis.IntCmd).Val())
	// WATCH: a write by another client between WATCH and EXEC aborts the transaction.
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		require.NoError(t, other.Set(ctx, "k", "changed", 0).Err())
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "k", "mine", 0)
			return nil
		})
		return err
	}, "k")
	assert.ErrorIs(t, err, redis.TxFailedErr)
	assert.Equal(t, "changed", rdb.Get(ctx, "k").Val())
	// Without interference it commits.
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "k", "mine", 0)
			return nil
		})
		return err
	}, "k")
	require.NoError(t, err)
	assert.Equal(t, "mine", rdb.Get(ctx, "k").Val())
	// Errors with Redis's texts.
	assert.EqualError(t, rdb.Do(ctx, "EXEC").Err(), "ERR EXEC without MULTI")
	assert.EqualError(t, rdb.Do(ctx, "DISCARD").Err(), "ERR DISCARD without MULTI")
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	fmt.Fprint(conn, "MULTI\r\nNOSUCH\r\nSET a b\r\nEXEC\r\nGET a\r\n")
	br := bufio.NewReader(conn)
	var lines []string
	for i := 0; i < 5; i++ {
		l, err := br.ReadString('\n')
		require.NoError(t, err)
		lines = append(lines, l)
	}
	assert.Equal(t, []string{"+OK\r\n", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n", "+QUEUED\r\n",
		"-EXECABORT Transaction discarded because of previous errors.\r\n", "$-1\r\n"}, lines)
}

func TestLua(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	rdb := newRedis(t, addr, 3)
	v, err := rdb.Eval(ctx, "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", []string{"k"}, "v").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v)
	sha, err := rdb.ScriptLoad(ctx, "return {1, 2, 'three', redis.call('INCR', KEYS[1])}").Result()
	require.NoError(t, err)
	v, err = rdb.EvalSha(ctx, sha, []string{"n"}).Result()
	require.NoError(t, err)
	assert.Equal(t, []any{int64(1), int64(2), "three", int64(1)}, v)
	assert.Equal(t, []bool{true, false}, rdb.ScriptExists(ctx, sha, "0000").Val())
	err = rdb.EvalSha(ctx, "0000000000000000000000000000000000000000", nil).Err()
	assert.EqualError(t, err, "NOSCRIPT No matching script. Please use EVAL.")
	// go-redis's Script helper falls back from EVALSHA to EVAL.
	script := redis.NewScript("return redis.status_reply('DONE')")
	assert.Equal(t, "DONE", script.Run(ctx, rdb, nil).Val())
	// Errors from redis.call abort the script; pcall returns them.
	err = rdb.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{"k"}).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ERR value is not an integer or out of range")
	v, err = rdb.Eval(ctx, "local r = redis.pcall('INCR', KEYS[1]); return r['err']", []string{"k"}).Result()
	require.NoError(t, err)
	assert.Equal(t, "ERR value is not an integer or out of range", v)
	assert.EqualError(t, rdb.Do(ctx, "EVAL", "return 1", "3", "a", "b").Err(), "ERR Number of keys can't be greater than number of args")
	// A runaway script is stopped by the time limit instead of freezing the server forever.
	_, addr2 := start(t, Config{ScriptTimeout: 100 * time.Millisecond})
	err = newRedis(t, addr2, 2).Eval(ctx, "while true do end", nil).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "time limit")
}

func TestExpiryWithFakeClock(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s, addr := start(t, Config{Clock: clk.Now, ActiveExpireEvery: -1})
	ctx := context.Background()
	rdb := newRedis(t, addr, 2)
	for i := 0; i < 100; i++ {
		require.NoError(t, rdb.Set(ctx, "k"+strconv.Itoa(i), "v", 10*time.Second).Err())
	}
	require.NoError(t, rdb.Set(ctx, "lazy", "v", 10*time.Second).Err())
	require.NoError(t, rdb.Set(ctx, "forever", "v", 0).Err())
	clk.Advance(9 * time.Second)
	assert.Equal(t, int64(1), rdb.Exists(ctx, "lazy").Val())
	assert.Equal(t, time.Second, rdb.TTL(ctx, "lazy").Val())
	clk.Advance(time.Second)
	// Lazy: the access itself notices the key is dead.
	assert.Equal(t, int64(0), rdb.Exists(ctx, "lazy").Val())
	assert.Equal(t, int64(101), rdb.DBSize(ctx).Val(), "expired keys stay until accessed or sampled")
	// Active: sampling reclaims them without any access.
	for i := 0; i < 20 && rdb.DBSize(ctx).Val() > 1; i++ {
		s.ActiveExpireCycle()
	}
	assert.Equal(t, int64(1), rdb.DBSize(ctx).Val())
	assert.Contains(t, rdb.Info(ctx, "stats").Val(), "expired_keys:101")
}

func TestProtocolErrorsMatchRedis(t *testing.T) {
	_, addr := start(t, Config{})
	tests := []struct{ in, want string }{
		{"*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, tc := range tests {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		fmt.Fprint(conn, tc.in)
		br := bufio.NewReader(conn)
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, tc.want, line)
		_, err = br.ReadString('\n')
		assert.Error(t, err, "the server closes the connection after a protocol error")
		conn.Close()
	}
	// Inline commands (telnet) and a pipeline in one write.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	fmt.Fprint(conn, "SET greeting \"hello world\"\r\nGET greeting\r\nPING\r\n")
	br := bufio.NewReader(conn)
	var got []string
	for i := 0; i < 4; i++ {
		l, err := br.ReadString('\n')
		require.NoError(t, err)
		got = append(got, l)
	}
	assert.Equal(t, []string{"+OK\r\n", "$11\r\n", "hello world\r\n", "+PONG\r\n"}, got)
}

func TestHello(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	ctx := context.Background()
	assert.EqualError(t, rdb.Do(ctx, "HELLO", "4").Err(), "NOPROTO unsupported protocol version")
	v, err := rdb.Do(ctx, "HELLO", "2").Result()
	require.NoError(t, err)
	assert.Contains(t, fmt.Sprint(v), "7.0.15")
	require.NoError(t, rdb.Do(ctx, "CLIENT", "SETNAME", "me").Err())
	assert.Equal(t, "me", rdb.Do(ctx, "CLIENT", "GETNAME").Val())
}

func TestSlowlog(t *testing.T) {
	_, addr := start(t, Config{SlowlogSlowerThan: -1})
	rdb := newRedis(t, addr, 2)
	ctx := context.Background()
	require.NoError(t, rdb.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
	rdb.Set(ctx, "a", "b", 0)
	entries, err := rdb.SlowLogGet(ctx, 10).Result()
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	var found bool
	for _, e := range entries {
		found = found || assert.ObjectsAreEqual([]string{"set", "a", "b"}, lowerFirst(e.Args))
	}
	assert.True(t, found, "SET a b is in the slowlog: %v", entries)
}

func lowerFirst(a []string) []string {
	out := append([]string{}, a...)
	if len(out) > 0 {
		out[0] = string(lowerASCII([]byte(out[0])))
	}
	return out
}

// TestClusterClient runs three in-process nodes over 16384 slots and drives them with go-redis's
// ClusterClient, which discovers the topology with CLUSTER SLOTS and follows MOVED.
func TestClusterClient(t *testing.T) {
	var lns []net.Listener
	var addrs []string
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 3)
	for i := range lns {
		topo, err := cluster.Even(addrs, addrs[i])
		require.NoError(t, err)
		s, err := New(Config{Cluster: topo})
		require.NoError(t, err)
		go func() { done <- s.Serve(ctx, lns[i]) }()
	}
	defer func() {
		cancel()
		for range lns {
			require.NoError(t, <-done)
		}
	}()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs[:1]})
	defer cc.Close()
	for i := 0; i < 300; i++ {
		require.NoError(t, cc.Set(ctx, "key:"+strconv.Itoa(i), i, 0).Err())
	}
	for i := 0; i < 300; i++ {
		require.Equal(t, strconv.Itoa(i), cc.Get(ctx, "key:"+strconv.Itoa(i)).Val())
	}
	// Keys spread over all three nodes.
	var sizes []int64
	var mu sync.Mutex
	err := cc.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, n.DBSize(ctx).Val())
		return nil
	})
	require.NoError(t, err)
	require.Len(t, sizes, 3)
	for _, sz := range sizes {
		assert.Greater(t, sz, int64(50))
	}
	// Hash tags keep multi-key commands on one node.
	require.NoError(t, cc.MSet(ctx, "{user:1}:a", "1", "{user:1}:b", "2").Err())
	assert.Equal(t, []any{"1", "2"}, cc.MGet(ctx, "{user:1}:a", "{user:1}:b").Val())
	// A plain client sent to the wrong node gets MOVED with Redis's format, and CROSSSLOT.
	plain := newRedis(t, addrs[0], 2)
	slot := cluster.Slot([]byte("foo"))
	owner := addrs[slot*3/cluster.Slots]
	if owner != addrs[0] {
		assert.EqualError(t, plain.Get(ctx, "foo").Err(), fmt.Sprintf("MOVED %d %s", slot, owner))
	}
	assert.EqualError(t, plain.MGet(ctx, "{a}x", "{b}y").Err(), "CROSSSLOT Keys in request don't hash to the same slot")
	shards, err := plain.ClusterShards(ctx).Result()
	require.NoError(t, err)
	assert.Len(t, shards, 3)
	nodes, err := plain.ClusterNodes(ctx).Result()
	require.NoError(t, err)
	assert.Contains(t, nodes, "myself,master")
	// Lua in a cluster: keys must live on the node.
	v, err := cc.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{"counter"}).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)
}

// TestClientThatNeverReadsDoesNotBlockOthers: replies are encoded into the client's output
// buffer under the executor lock and written to the socket after it, so a client that stops
// reading stalls only itself.
func TestClientThatNeverReadsDoesNotBlockOthers(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	rdb := newRedis(t, addr, 2)
	big := make([]any, 0, 2000)
	for i := 0; i < 1000; i++ {
		big = append(big, "field:"+strconv.Itoa(i), "some value to make the reply large")
	}
	require.NoError(t, rdb.HSet(ctx, "big", big...).Err())
	lazy, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer lazy.Close()
	go func() { // ~10 MB of replies that nobody reads: far more than the socket buffers hold
		for i := 0; i < 200; i++ {
			if _, err := fmt.Fprint(lazy, "HGETALL big\r\n"); err != nil {
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 20; i++ {
		start := time.Now()
		require.NoError(t, rdb.Set(ctx, "k", i, 0).Err())
		assert.Less(t, time.Since(start), 2*time.Second)
	}
}
