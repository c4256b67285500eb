//go:build integration

package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/bloom"
)

// realBackends connects to the real Redis (REDIS_ADDR) and PostgreSQL (POSTGRES_DSN); keys use a
// per-test prefix and are deleted afterwards, so a shared Redis keeps its data.
func realBackends(t *testing.T) (*redis.Client, *Store, string) {
	rdb := redis.NewClient(&redis.Options{Addr: servicetest.Require(t, "REDIS_ADDR"), PoolSize: 64})
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())
	st, err := OpenPostgres(ctx, servicetest.Require(t, "POSTGRES_DSN"))
	require.NoError(t, err)
	require.NoError(t, st.Seed(ctx, 1000, 20_000))
	prefix := fmt.Sprintf("lab5:it:%d:", time.Now().UnixNano())
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
		st.Close()
	})
	return rdb, st, prefix
}

// TestPenetrationAgainstRealServices: 1000 reads of ids that do not exist reach PostgreSQL 1000
// times through the naive cache-aside, and at most ~1% (Bloom false positives) with the fix.
func TestPenetrationAgainstRealServices(t *testing.T) {
	rdb, st, prefix := realBackends(t)
	ctx := context.Background()
	naive := NewAside(rdb, st, Options{Prefix: prefix + "n:", TTL: time.Minute})
	before := st.Queries()
	for i := 0; i < 1000; i++ {
		_, err := naive.Product(ctx, 1_000_000+int64(i%50))
		require.ErrorIs(t, err, ErrNotFound)
	}
	naiveQ := st.Queries() - before

	ids, err := st.IDs(ctx)
	require.NoError(t, err)
	f := bloom.New(len(ids), 0.01)
	for _, id := range ids {
		f.Add([]byte(strconv.FormatInt(id, 10)))
	}
	fixed := NewAside(rdb, st, Options{Prefix: prefix + "f:", TTL: time.Minute, Bloom: f, NullTTL: time.Minute})
	before = st.Queries()
	for i := 0; i < 1000; i++ {
		_, err := fixed.Product(ctx, 1_000_000+int64(i%50))
		require.ErrorIs(t, err, ErrNotFound)
	}
	fixedQ := st.Queries() - before
	t.Logf("store queries for 1000 reads of 50 missing ids: naive %d, bloom+null %d", naiveQ, fixedQ)
	assert.Equal(t, int64(1000), naiveQ)
	assert.LessOrEqual(t, fixedQ, int64(50), "each missing id reaches the store at most once (null cache), most never (Bloom)")
	p, err := fixed.Product(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, int64(7), p.ID)
}

// TestBreakdownAgainstRealServices: 32 concurrent readers of an expired hot key run 32
// aggregations on PostgreSQL without a guard, one with singleflight, one with the SET NX lock.
func TestBreakdownAgainstRealServices(t *testing.T) {
	rdb, st, prefix := realBackends(t)
	ctx := context.Background()
	run := func(a *Aside, read func() error) int64 {
		before := st.Queries()
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				require.NoError(t, read())
			}()
		}
		close(start)
		wg.Wait()
		return st.Queries() - before
	}
	naive := NewAside(rdb, st, Options{Prefix: prefix + "n:"})
	n := run(naive, func() error { _, err := naive.TopSellers(ctx, time.Minute); return err })
	sf := NewAside(rdb, st, Options{Prefix: prefix + "s:", Singleflight: true})
	s := run(sf, func() error { _, err := sf.TopSellers(ctx, time.Minute); return err })
	lk := NewAside(rdb, st, Options{Prefix: prefix + "l:"})
	l := run(lk, func() error {
		_, err := lk.LockedFill(ctx, prefix+"l:top", time.Minute, func(ctx context.Context) (string, error) {
			ids, err := st.TopSellers(ctx, 10)
			return encodeIDs(ids), err
		})
		return err
	})
	t.Logf("aggregations for 32 concurrent misses: none %d, singleflight %d, SET NX lock %d", n, s, l)
	assert.Greater(t, n, int64(4))
	assert.Equal(t, int64(1), s)
	assert.Equal(t, int64(1), l)
}

// TestRealRedisRejectsWhatMiniRejects compares error texts between a real Redis and the mini one
// for the same bad commands (differential test; the mini side runs in the server package's
// tests with the same strings).
func TestRealRedisErrorTexts(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: servicetest.Require(t, "REDIS_ADDR")})
	defer rdb.Close()
	ctx := context.Background()
	key := fmt.Sprintf("lab5:it:err:%d", time.Now().UnixNano())
	defer rdb.Del(ctx, key)
	require.NoError(t, rdb.HSet(ctx, key, "f", "v").Err())
	cases := map[string][]any{
		"WRONGTYPE Operation against a key holding the wrong kind of value": {"GET", key},
		"ERR wrong number of arguments for 'get' command":                   {"GET"},
		"ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ":  {"NOSUCH", "a", "b"},
		"ERR syntax error":                                        {"SET", key + "x", "v", "NX", "XX"},
		"ERR invalid expire time in 'set' command":                {"SET", key + "x", "v", "EX", "0"},
		"ERR value is not an integer or out of range":             {"INCRBY", key + "x", "abc"},
		"ERR Number of keys can't be greater than number of args": {"EVAL", "return 1", "3", "a"},
		"NOSCRIPT No matching script. Please use EVAL.":           {"EVALSHA", "0000000000000000000000000000000000000000", "0"},
	}
	for want, args := range cases {
		err := rdb.Do(ctx, args...).Err()
		var rerr redis.Error
		require.True(t, errors.As(err, &rerr), "%v: %v", args, err)
		assert.Equal(t, want, err.Error(), "%v", args)
	}
}
