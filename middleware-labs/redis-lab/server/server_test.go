package server

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv("MINIREDIS_AOF_CHILD"); addr != "" {
		os.Exit(runAOFChild(addr, os.Getenv("MINIREDIS_AOF_PATH")))
	}
	goleak.VerifyTestMain(m)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// start runs a server on a free port and returns it with its address.
func start(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, addr
}

func newRedis(t testing.TB, addr string, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DisableIdentity: false})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedisCommands(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			_, addr := start(t, Config{})
			rdb := newRedis(t, addr, proto)
			ctx := context.Background()

			require.Equal(t, "PONG", rdb.Ping(ctx).Val())
			require.Equal(t, "hi", rdb.Echo(ctx, "hi").Val())
			// strings
			require.NoError(t, rdb.Set(ctx, "s", "v", 0).Err())
			assert.Equal(t, "v", rdb.Get(ctx, "s").Val())
			assert.ErrorIs(t, rdb.Get(ctx, "missing").Err(), redis.Nil)
			ok, err := rdb.SetNX(ctx, "s", "w", 0).Result()
			require.NoError(t, err)
			assert.False(t, ok)
			assert.Equal(t, "v", rdb.SetArgs(ctx, "s", "w", redis.SetArgs{Get: true}).Val())
			assert.ErrorIs(t, rdb.SetArgs(ctx, "nx", "1", redis.SetArgs{Mode: "XX"}).Err(), redis.Nil)
			require.NoError(t, rdb.Set(ctx, "ttl", "v", time.Minute).Err())
			assert.InDelta(t, time.Minute.Seconds(), rdb.TTL(ctx, "ttl").Val().Seconds(), 1)
			require.NoError(t, rdb.SetArgs(ctx, "ttl", "v2", redis.SetArgs{KeepTTL: true}).Err())
			assert.Greater(t, rdb.PTTL(ctx, "ttl").Val(), 50*time.Second)
			assert.Equal(t, int64(1), rdb.Incr(ctx, "n").Val())
			assert.Equal(t, int64(11), rdb.IncrBy(ctx, "n", 10).Val())
			assert.Equal(t, int64(10), rdb.Decr(ctx, "n").Val())
			assert.Equal(t, int64(7), rdb.DecrBy(ctx, "n", 3).Val())
			assert.EqualError(t, rdb.Incr(ctx, "s").Err(), "ERR value is not an integer or out of range")
			assert.Equal(t, int64(4), rdb.Append(ctx, "s", "xyz").Val())
			assert.Equal(t, int64(4), rdb.StrLen(ctx, "s").Val())
			require.NoError(t, rdb.MSet(ctx, "a", "1", "b", "2").Err())
			assert.Equal(t, []any{"1", "2", nil}, rdb.MGet(ctx, "a", "b", "zz").Val())
			// keys
			assert.Equal(t, int64(2), rdb.Exists(ctx, "a", "b", "zz").Val())
			assert.Equal(t, "string", rdb.Type(ctx, "a").Val())
			assert.True(t, rdb.Expire(ctx, "a", time.Hour).Val())
			assert.True(t, rdb.Persist(ctx, "a").Val())
			assert.Equal(t, time.Duration(-1), rdb.TTL(ctx, "a").Val())
			assert.Equal(t, time.Duration(-2), rdb.TTL(ctx, "zz").Val())
			assert.True(t, rdb.PExpire(ctx, "b", time.Hour).Val())
			assert.Equal(t, int64(2), rdb.Del(ctx, "a", "b", "zz").Val())
			assert.Equal(t, int64(1), rdb.Unlink(ctx, "s").Val())
			// hashes
			assert.Equal(t, int64(2), rdb.HSet(ctx, "h", "f1", "v1", "f2", "v2").Val())
			assert.Equal(t, "v1", rdb.HGet(ctx, "h", "f1").Val())
			assert.Equal(t, map[string]string{"f1": "v1", "f2": "v2"}, rdb.HGetAll(ctx, "h").Val())
			assert.Equal(t, int64(2), rdb.HLen(ctx, "h").Val())
			assert.Equal(t, int64(1), rdb.HDel(ctx, "h", "f1", "nope").Val())
			assert.EqualError(t, rdb.Get(ctx, "h").Err(), "WRONGTYPE Operation against a key holding the wrong kind of value")
			// lists
			assert.Equal(t, int64(3), rdb.RPush(ctx, "l", "a", "b", "c").Val())
			assert.Equal(t, int64(4), rdb.LPush(ctx, "l", "z").Val())
			assert.Equal(t, []string{"z", "a", "b", "c"}, rdb.LRange(ctx, "l", 0, -1).Val())
			assert.Equal(t, "z", rdb.LPop(ctx, "l").Val())
			assert.Equal(t, "c", rdb.RPop(ctx, "l").Val())
			assert.Equal(t, []string{"a", "b"}, rdb.LPopCount(ctx, "l", 5).Val())
			assert.Equal(t, int64(0), rdb.LLen(ctx, "l").Val())
			// sets
			assert.Equal(t, int64(2), rdb.SAdd(ctx, "set", "x", "y", "x").Val())
			assert.ElementsMatch(t, []string{"x", "y"}, rdb.SMembers(ctx, "set").Val())
			assert.True(t, rdb.SIsMember(ctx, "set", "x").Val())
			assert.Equal(t, int64(1), rdb.SRem(ctx, "set", "x").Val())
			assert.Equal(t, int64(1), rdb.SCard(ctx, "set").Val())
			// sorted sets
			assert.Equal(t, int64(3), rdb.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 3, Member: "c"}, redis.Z{Score: 2, Member: "b"}).Val())
			assert.Equal(t, []string{"a", "b", "c"}, rdb.ZRange(ctx, "z", 0, -1).Val())
			assert.Equal(t, []redis.Z{{Score: 3, Member: "c"}, {Score: 2, Member: "b"}}, rdb.ZRevRangeWithScores(ctx, "z", 0, 1).Val())
			assert.Equal(t, []redis.Z{{Score: 1, Member: "a"}, {Score: 2, Member: "b"}}, rdb.ZRangeWithScores(ctx, "z", 0, 1).Val())
			assert.Equal(t, 2.0, rdb.ZScore(ctx, "z", "b").Val())
			assert.Equal(t, []string{"b", "c"}, rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "z", Start: "(1", Stop: "+inf", ByScore: true}).Val())
			assert.Equal(t, []string{"c"}, rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "z", Start: "-inf", Stop: "+inf", ByScore: true, Offset: 2, Count: 5}).Val())
			// ZRANGEBYSCORE itself, which go-redis deprecates but the server still serves.
			byScore, err := rdb.Do(ctx, "ZRANGEBYSCORE", "z", "(1", "+inf").StringSlice()
			require.NoError(t, err)
			assert.Equal(t, []string{"b", "c"}, byScore)
			byScore, err = rdb.Do(ctx, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 2, 5).StringSlice()
			require.NoError(t, err)
			assert.Equal(t, []string{"c"}, byScore)
			assert.Equal(t, int64(1), rdb.ZRem(ctx, "z", "a").Val())
			assert.Equal(t, int64(2), rdb.ZCard(ctx, "z").Val())
			// server
			assert.Equal(t, int64(5), rdb.DBSize(ctx).Val())
			keys, cursor, err := rdb.Scan(ctx, 0, "*", 100).Result()
			require.NoError(t, err)
			assert.Zero(t, cursor)
			assert.ElementsMatch(t, []string{"ttl", "n", "h", "set", "z"}, keys)
			assert.Equal(t, map[string]string{"save": ""}, rdb.ConfigGet(ctx, "save").Val())
			info := rdb.Info(ctx, "keyspace").Val()
			assert.Contains(t, info, "db0:keys=")
			require.NoError(t, rdb.FlushDB(ctx).Err())
			assert.Equal(t, int64(0), rdb.DBSize(ctx).Val())
			err = rdb.Do(ctx, "NOSUCH", "a", "b").Err()
			assert.EqualError(t, err, "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ")
			assert.EqualError(t, rdb.Do(ctx, "GET").Err(), "ERR wrong number of arguments for 'get' command")
			assert.EqualError(t, rdb.Do(ctx, "SET", "k", "v", "EX", "0").Err(), "ERR invalid expire time in 'set' command")
			assert.EqualError(t, rdb.Do(ctx, "SET", "k", "v", "NX", "XX").Err(), "ERR syntax error")
		})
	}
}
