package server

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
)

// step is one command and the reply Redis 7.0.15 gives to it (checked with redis-cli against
// redis-server 7.0.15): want is the reply as go-redis returns it, or wantErr the error text.
type step struct {
	args    []any
	want    any
	wantErr string
}

func runSteps(t *testing.T, rdb *redis.Client, steps []step) {
	t.Helper()
	ctx := context.Background()
	for _, st := range steps {
		v, err := rdb.Do(ctx, st.args...).Result()
		if st.wantErr != "" {
			assert.EqualError(t, err, st.wantErr, "%v", st.args)
			continue
		}
		if st.want == nil {
			assert.ErrorIs(t, err, redis.Nil, "%v", st.args)
			continue
		}
		if assert.NoError(t, err, "%v", st.args) {
			assert.Equal(t, st.want, v, "%v", st.args)
		}
	}
}

func TestDatabases(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	runSteps(t, rdb, []step{
		{args: []any{"SET", "k", "zero"}, want: "OK"},
		{args: []any{"SELECT", "15"}, want: "OK"},
		{args: []any{"GET", "k"}},
		{args: []any{"SET", "k", "fifteen"}, want: "OK"},
		{args: []any{"SET", "only15", "x"}, want: "OK"},
		{args: []any{"DBSIZE"}, want: int64(2)},
		{args: []any{"SELECT", "16"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"SELECT", "-1"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"SELECT", "abc"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"MOVE", "only15", "15"}, wantErr: "ERR source and destination objects are the same"},
		{args: []any{"MOVE", "only15", "16"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"MOVE", "k", "0"}, want: int64(0)}, // the target has the key
		{args: []any{"EXPIRE", "only15", "100"}, want: int64(1)},
		{args: []any{"MOVE", "only15", "3"}, want: int64(1)},
		{args: []any{"MOVE", "nokey", "3"}, want: int64(0)},
		{args: []any{"DBSIZE"}, want: int64(1)},
		{args: []any{"SELECT", "3"}, want: "OK"},
		{args: []any{"GET", "only15"}, want: "x"},
		{args: []any{"TTL", "only15"}, want: int64(100)},
		{args: []any{"SWAPDB", "3", "0"}, want: "OK"},
		{args: []any{"GET", "k"}, want: "zero"},
		{args: []any{"SWAPDB", "a", "1"}, wantErr: "ERR invalid first DB index"},
		{args: []any{"SWAPDB", "1", "b"}, wantErr: "ERR invalid second DB index"},
		{args: []any{"SWAPDB", "0", "16"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"FLUSHDB"}, want: "OK"},
		{args: []any{"DBSIZE"}, want: int64(0)},
		{args: []any{"SELECT", "0"}, want: "OK"},
		{args: []any{"GET", "only15"}, want: "x"},
		{args: []any{"SELECT", "15"}, want: "OK"},
		{args: []any{"GET", "k"}, want: "fifteen"},
		{args: []any{"FLUSHALL"}, want: "OK"},
		{args: []any{"DBSIZE"}, want: int64(0)},
		{args: []any{"SELECT", "0"}, want: "OK"},
		{args: []any{"DBSIZE"}, want: int64(0)},
	})
}

// TestOptionsDB: go-redis selects Options.DB on every new connection.
func TestOptionsDB(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	db5 := redis.NewClient(&redis.Options{Addr: addr, DB: 5})
	t.Cleanup(func() { db5.Close() })
	db0 := newRedis(t, addr, 3)
	require.NoError(t, db5.Set(ctx, "k", "five", 0).Err())
	assert.ErrorIs(t, db0.Get(ctx, "k").Err(), redis.Nil)
	assert.Equal(t, "five", db5.Get(ctx, "k").Val())
	assert.Contains(t, db0.Info(ctx, "keyspace").Val(), "db5:keys=1,expires=0")
	assert.Equal(t, 5, db5.ClientInfo(ctx).Val().DB)
	// WATCH is per database: a write to k in db 0 does not abort a transaction on db 5's k.
	err := db5.Watch(ctx, func(tx *redis.Tx) error {
		require.NoError(t, db0.Set(ctx, "k", "zero", 0).Err())
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.Set(ctx, "k", "5b", 0).Err() })
		return err
	}, "k")
	require.NoError(t, err)
	assert.Equal(t, "5b", db5.Get(ctx, "k").Val())
	assert.Equal(t, "zero", db0.Get(ctx, "k").Val())
}

// TestClusterIsSingleDatabase: as in Redis Cluster, only database 0 exists.
func TestClusterIsSingleDatabase(t *testing.T) {
	topo, err := cluster.Even([]string{"127.0.0.1:1"}, "127.0.0.1:1")
	require.NoError(t, err)
	_, addr := start(t, Config{Cluster: topo})
	rdb := newRedis(t, addr, 2)
	runSteps(t, rdb, []step{
		{args: []any{"SELECT", "0"}, want: "OK"},
		{args: []any{"SELECT", "1"}, wantErr: "ERR SELECT is not allowed in cluster mode"},
		{args: []any{"MOVE", "k", "1"}, wantErr: "ERR MOVE is not allowed in cluster mode"},
		{args: []any{"SWAPDB", "0", "1"}, wantErr: "ERR SWAPDB is not allowed in cluster mode"},
	})
}

func TestConfigSetGet(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	failed := func(param, reason string) string {
		return "ERR CONFIG SET failed (possibly related to argument '" + param + "') - " + reason
	}
	runSteps(t, rdb, []step{
		{args: []any{"CONFIG", "SET", "save", "900 1 300 10"}, want: "OK"},
		{args: []any{"CONFIG", "GET", "save"}, want: []any{"save", "900 1 300 10"}},
		{args: []any{"CONFIG", "SET", "save", ""}, want: "OK"},
		{args: []any{"CONFIG", "SET", "save", "100"}, wantErr: failed("save", "Invalid save parameters")},
		{args: []any{"CONFIG", "SET", "set-max-intset-entries", "64"}, want: "OK"},
		{args: []any{"CONFIG", "SET", "list-max-listpack-size", "-3"}, want: "OK"},
		{args: []any{"CONFIG", "SET", "hash-max-ziplist-entries", "99"}, want: "OK"},
		{args: []any{"CONFIG", "GET", "hash-max-*-entries"}, want: []any{"hash-max-listpack-entries", "99", "hash-max-ziplist-entries", "99"}},
		{args: []any{"CONFIG", "SET", "HASH-MAX-LISTPACK-ENTRIES", "512"}, want: "OK"},
		{args: []any{"CONFIG", "SET", "zset-max-listpack-entries", "128", "timeout", "30"}, want: "OK"},
		{args: []any{"CONFIG", "GET", "timeout"}, want: []any{"timeout", "30"}},
		{args: []any{"CONFIG", "SET", "maxmemory", "1gb"}, want: "OK"},
		{args: []any{"CONFIG", "GET", "maxmemory"}, want: []any{"maxmemory", "1073741824"}},
		{args: []any{"CONFIG", "SET", "maxmemory", "-1"}, wantErr: failed("maxmemory", "argument must be a memory value")},
		{args: []any{"CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU"}, want: "OK"},
		{args: []any{"CONFIG", "GET", "maxmemory-policy"}, want: []any{"maxmemory-policy", "allkeys-lru"}},
		{args: []any{"CONFIG", "SET", "maxmemory-policy", "foo"}, wantErr: failed("maxmemory-policy", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")},
		{args: []any{"CONFIG", "SET", "activerehashing", "maybe"}, wantErr: failed("activerehashing", "argument must be 'yes' or 'no'")},
		{args: []any{"CONFIG", "SET", "set-max-intset-entries", "+5"}, wantErr: failed("set-max-intset-entries", "argument couldn't be parsed into an integer")},
		{args: []any{"CONFIG", "SET", "timeout", "-1"}, wantErr: failed("timeout", "argument must be between 0 and 2147483647 inclusive")},
		{args: []any{"CONFIG", "SET", "daemonize", "yes"}, wantErr: failed("daemonize", "can't set immutable config")},
		{args: []any{"CONFIG", "SET", "timeout", "1", "timeout", "2"}, wantErr: failed("timeout", "duplicate parameter")},
		{args: []any{"CONFIG", "SET", "timeout", "1", "maxmemory", "x"}, wantErr: failed("maxmemory", "argument must be a memory value")},
		{args: []any{"CONFIG", "GET", "timeout"}, want: []any{"timeout", "30"}}, // all or nothing
		{args: []any{"CONFIG", "SET", "foo", "bar"}, wantErr: "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{args: []any{"CONFIG", "SET", "timeout"}, wantErr: "ERR wrong number of arguments for 'config|set' command"},
		{args: []any{"CONFIG", "SET", "a", "b", "c"}, wantErr: "ERR syntax error"},
		{args: []any{"CONFIG", "GET"}, wantErr: "ERR wrong number of arguments for 'config|get' command"},
		{args: []any{"CONFIG", "GET", "nosuch"}, want: []any{}},
		{args: []any{"CONFIG", "SET", "slowlog-max-len", "7"}, want: "OK"},
		{args: []any{"CONFIG", "GET", "slowlog-max-len", "databases"}, want: []any{"slowlog-max-len", "7", "databases", "16"}},
		{args: []any{"CONFIG", "FOO"}, wantErr: "ERR unknown subcommand 'FOO'. Try CONFIG HELP."},
	})
	all, err := rdb.ConfigGet(context.Background(), "*").Result()
	require.NoError(t, err)
	assert.Greater(t, len(all), 180, "Redis 7.0 has 192 parameters with their aliases")
}

func TestStringSetCommands(t *testing.T) {
	_, addr := start(t, Config{Seed: 1})
	rdb := newRedis(t, addr, 2)
	runSteps(t, rdb, []step{
		{args: []any{"SET", "f", "10.50"}, want: "OK"},
		{args: []any{"INCRBYFLOAT", "f", "0.1"}, want: "10.6"},
		{args: []any{"INCRBYFLOAT", "f", "5.0e3"}, want: "5010.60000000000000009"}, // long double digits
		{args: []any{"INCRBYFLOAT", "f", "abc"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"INCRBYFLOAT", "f", "inf"}, wantErr: "ERR increment would produce NaN or Infinity"},
		{args: []any{"SET", "h", "1"}, want: "OK"},
		{args: []any{"INCRBYFLOAT", "h", "0.1"}, want: "1.1"},
		{args: []any{"INCRBYFLOAT", "h", "0.2"}, want: "1.3"},
		{args: []any{"INCRBYFLOAT", "new", "3"}, want: "3"},
		{args: []any{"SET", "g", "abc"}, want: "OK"},
		{args: []any{"INCRBYFLOAT", "g", "1"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"SADD", "s", "1", "2", "3"}, want: int64(3)},
		{args: []any{"SPOP", "s", "0"}, want: []any{}},
		{args: []any{"SPOP", "s", "-1"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"SPOP", "s", "abc"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"SPOP", "s", "1", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"SPOP", "nokey"}},
		{args: []any{"SPOP", "nokey", "5"}, want: []any{}},
		{args: []any{"SRANDMEMBER", "nokey"}},
		{args: []any{"SRANDMEMBER", "nokey", "5"}, want: []any{}},
		{args: []any{"SRANDMEMBER", "s", "0"}, want: []any{}},
		{args: []any{"SRANDMEMBER", "s", "1", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"SRANDMEMBER", "s", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"SRANDMEMBER", "f", "1"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
	})
	ctx := context.Background()
	assert.Len(t, rdb.SRandMemberN(ctx, "s", 2).Val(), 2)
	assert.ElementsMatch(t, []string{"1", "2", "3"}, rdb.SRandMemberN(ctx, "s", 10).Val())
	rep := rdb.SRandMemberN(ctx, "s", -10).Val()
	assert.Len(t, rep, 10, "a negative count allows repeats")
	assert.Subset(t, []string{"1", "2", "3"}, rep)
	one := rdb.SPop(ctx, "s").Val()
	assert.Contains(t, []string{"1", "2", "3"}, one)
	rest := rdb.SPopN(ctx, "s", 5).Val()
	assert.Len(t, rest, 2)
	assert.NotContains(t, rest, one)
	assert.Equal(t, int64(0), rdb.Exists(ctx, "s").Val(), "popping the last member deletes the set")
}

func TestObjectEncoding(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	ctx := context.Background()
	long := strings.Repeat("x", 45)
	fields := make([]any, 0, 2*513)
	for i := range 513 {
		fields = append(fields, i, "v")
	}
	ints := make([]any, 0, 513)
	for i := range 513 {
		ints = append(ints, i)
	}
	require.NoError(t, rdb.HSet(ctx, "hbig", fields...).Err())
	require.NoError(t, rdb.SAdd(ctx, "sbig", ints...).Err())
	runSteps(t, rdb, []step{
		{args: []any{"SET", "i", "123"}, want: "OK"},
		{args: []any{"OBJECT", "ENCODING", "i"}, want: "int"},
		{args: []any{"SET", "e", "hello"}, want: "OK"},
		{args: []any{"OBJECT", "ENCODING", "e"}, want: "embstr"},
		{args: []any{"SET", "r", long}, want: "OK"},
		{args: []any{"OBJECT", "ENCODING", "r"}, want: "raw"},
		{args: []any{"APPEND", "e", "!"}, want: int64(6)},
		{args: []any{"OBJECT", "ENCODING", "e"}, want: "raw"},
		{args: []any{"INCRBYFLOAT", "fl", "3"}, want: "3"},
		{args: []any{"OBJECT", "ENCODING", "fl"}, want: "embstr"},
		{args: []any{"RPUSH", "l", "a"}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "l"}, want: "quicklist"},
		{args: []any{"SADD", "si", "1", "2"}, want: int64(2)},
		{args: []any{"OBJECT", "ENCODING", "si"}, want: "intset"},
		{args: []any{"SADD", "si", "a"}, want: int64(1)},
		{args: []any{"SREM", "si", "a"}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "si"}, want: "hashtable"}, // never converted back
		{args: []any{"OBJECT", "ENCODING", "sbig"}, want: "hashtable"},
		{args: []any{"HSET", "h", "f", "v"}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "h"}, want: "listpack"},
		{args: []any{"OBJECT", "ENCODING", "hbig"}, want: "hashtable"},
		{args: []any{"HSET", "hl", "f", long + long}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "hl"}, want: "hashtable"},
		{args: []any{"ZADD", "z", "1", "a"}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "z"}, want: "listpack"},
		{args: []any{"ZADD", "zl", "1", long + long}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "zl"}, want: "skiplist"},
		{args: []any{"CONFIG", "SET", "zset-max-listpack-entries", "1"}, want: "OK"},
		{args: []any{"ZADD", "z", "2", "b"}, want: int64(1)},
		{args: []any{"OBJECT", "ENCODING", "z"}, want: "skiplist"},
		{args: []any{"CONFIG", "SET", "set-max-intset-entries", "2"}, want: "OK"},
		{args: []any{"SADD", "s3", "1", "2", "3"}, want: int64(3)},
		{args: []any{"OBJECT", "ENCODING", "s3"}, want: "hashtable"},
		{args: []any{"OBJECT", "ENCODING", "nokey"}},
		{args: []any{"OBJECT", "ENCODING"}, wantErr: "ERR wrong number of arguments for 'object|encoding' command"},
		{args: []any{"OBJECT", "foo", "k"}, wantErr: "ERR unknown subcommand 'foo'. Try OBJECT HELP."},
		{args: []any{"OBJECT", "REFCOUNT", "r"}, want: int64(1)},
		{args: []any{"OBJECT", "FREQ", "r"}, wantErr: "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."},
	})
}

// TestAOFReplaysDatabases: writes to several databases, a MOVE, a SWAPDB, a served BLPOP, SPOP
// and INCRBYFLOAT reach the AOF (with SELECT where the database changes) and replay to the same
// state after a restart.
func TestAOFReplaysDatabases(t *testing.T) {
	path := t.TempDir() + "/appendonly.aof"
	ctx := context.Background()
	s, err := New(Config{AOFPath: path})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	db0 := redis.NewClient(&redis.Options{Addr: addr})
	db7 := redis.NewClient(&redis.Options{Addr: addr, DB: 7})
	require.NoError(t, db0.Set(ctx, "k", "zero", 0).Err())
	require.NoError(t, db7.Set(ctx, "k", "seven", 0).Err())
	require.NoError(t, db7.Set(ctx, "moved", "m", 0).Err())
	require.NoError(t, db7.Move(ctx, "moved", 3).Err())
	require.NoError(t, db7.IncrByFloat(ctx, "f", 1.5).Err())
	require.NoError(t, db7.SAdd(ctx, "s", "a", "b", "c").Err())
	popped := db7.SPop(ctx, "s").Val()
	done := make(chan string, 1)
	go func() { done <- db7.BLPop(ctx, 0, "q").Val()[1] }()
	waitBlocked(t, db0, 1)
	require.NoError(t, db7.RPush(ctx, "q", "x", "y").Err())
	assert.Equal(t, "x", <-done)
	require.NoError(t, db0.Do(ctx, "SWAPDB", 3, 4).Err())
	db0.Close()
	db7.Close()
	require.NoError(t, s.Close())

	s2, addr2 := start(t, Config{AOFPath: path})
	_ = s2
	check := func(db int, key, want string) {
		c := redis.NewClient(&redis.Options{Addr: addr2, DB: db})
		defer c.Close()
		assert.Equal(t, want, c.Get(ctx, key).Val(), "db %d key %s", db, key)
	}
	check(0, "k", "zero")
	check(7, "k", "seven")
	check(4, "moved", "m")
	check(3, "moved", "")
	check(7, "f", "1.5")
	c7 := redis.NewClient(&redis.Options{Addr: addr2, DB: 7})
	defer c7.Close()
	assert.NotContains(t, c7.SMembers(ctx, "s").Val(), popped)
	assert.Len(t, c7.SMembers(ctx, "s").Val(), 2)
	assert.Equal(t, []string{"y"}, c7.LRange(ctx, "q", 0, -1).Val())
}

func TestElementScans(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	ctx := context.Background()
	runSteps(t, rdb, []step{
		{args: []any{"ZADD", "z", "1.5", "a", "2", "b"}, want: int64(2)},
		{args: []any{"ZSCAN", "z", "0"}, want: []any{"0", []any{"a", "1.5", "b", "2"}}},
		{args: []any{"ZSCAN", "z", "0", "MATCH", "a*", "COUNT", "1"}, want: []any{"0", []any{"a", "1.5"}}},
		{args: []any{"HSCAN", "nokey", "0"}, want: []any{"0", []any{}}},
		{args: []any{"SSCAN", "z", "0"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"HSET", "h", "f", "v"}, want: int64(1)},
		{args: []any{"HSCAN", "h", "abc"}, wantErr: "ERR invalid cursor"},
		{args: []any{"HSCAN", "h", "0", "COUNT", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"HSCAN", "h", "0", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"HSCAN", "h", "0", "MATCH", evilPattern(20)}, want: []any{"0", []any{}}},
	})
	// A big set is walked in steps; every member comes back exactly once over the walk.
	members := make([]any, 0, 1000)
	for i := range 1000 {
		members = append(members, "m"+strconv.Itoa(i))
	}
	require.NoError(t, rdb.SAdd(ctx, "big", members...).Err())
	seen := map[string]int{}
	var cursor uint64
	for steps := 0; ; steps++ {
		require.Less(t, steps, 1000)
		keys, next, err := rdb.SScan(ctx, "big", cursor, "m*", 50).Result()
		require.NoError(t, err)
		for _, k := range keys {
			seen[k]++
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	assert.Len(t, seen, 1000)
	for k, n := range seen {
		assert.Equal(t, 1, n, k)
	}
}
