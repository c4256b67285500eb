package cache

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startBackends starts a mini-redis and opens a SQLite store named name, both closed when the
// test ends.
func startBackends(t *testing.T, name string) (*redis.Client, *Store) {
	t.Helper()
	s, err := server.New(server.Config{})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	st, err := OpenSQLite(name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return rdb, st
}

func TestAsideAgainstMiniRedisAndSQLite(t *testing.T) {
	rdb, st := startBackends(t, "unit")
	ctx := context.Background()
	require.NoError(t, st.Seed(ctx, 100, 1000))
	a := NewAside(rdb, st, Options{TTL: time.Minute, NullTTL: time.Minute, Jitter: 0.5})
	p, err := a.Product(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, Product{ID: 5, Name: "product-5", Price: 105, Sold: p.Sold}, p)
	assert.Positive(t, p.Sold)
	q := st.Queries()
	_, err = a.Product(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, q, st.Queries(), "second read is a cache hit")
	_, err = a.Product(ctx, 999)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = a.Product(ctx, 999)
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, q+1, st.Queries(), "the miss was cached as null")
	ttl := rdb.TTL(ctx, "product:5").Val()
	assert.GreaterOrEqual(t, ttl, 59*time.Second)
	assert.LessOrEqual(t, ttl, 90*time.Second, "jitter adds at most 50%")
	ids, err := a.TopSellers(ctx, time.Minute)
	require.NoError(t, err)
	assert.Len(t, ids, 10)
	near := NewNearCache(time.Minute)
	r := NewClusterReader(rdb, near)
	require.NoError(t, rdb.Set(ctx, "hot", "v1", 0).Err())
	v, err := r.Get(ctx, "hot")
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, "hot", "v2", 0).Err())
	v2, err := r.Get(ctx, "hot")
	require.NoError(t, err)
	assert.Equal(t, v, v2, "served from the near cache within its TTL")
}

// TestWarmSetsOneDeadlineOrStaggers: a plain warm-up gives every key the same TTL (the avalanche
// defect); StaggerWarm spreads the first expiries evenly over one TTL.
func TestWarmSetsOneDeadlineOrStaggers(t *testing.T) {
	rdb, st := startBackends(t, "warm")
	ctx := context.Background()
	const n = 600
	require.NoError(t, st.Seed(ctx, n, 1000))
	ids := make([]int64, n+5) // five ids that do not exist are skipped
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	ttls := func(prefix string, stagger bool) []time.Duration {
		a := NewAside(rdb, st, Options{Prefix: prefix, TTL: time.Minute, StaggerWarm: stagger})
		q := st.Queries()
		require.NoError(t, a.Warm(ctx, ids))
		assert.Equal(t, q+2, st.Queries(), "one store query per 500 ids")
		var out []time.Duration
		for id := int64(1); id <= n; id++ {
			out = append(out, rdb.PTTL(ctx, prefix+"product:"+strconv.FormatInt(id, 10)).Val())
		}
		assert.Equal(t, int64(0), rdb.Exists(ctx, prefix+"product:"+strconv.Itoa(n+1)).Val(), "ids that do not exist are not cached")
		return out
	}
	for _, d := range ttls("one:", false) {
		assert.InDelta(t, time.Minute.Seconds(), d.Seconds(), 1, "one TTL for the whole batch")
	}
	spread := ttls("stagger:", true)
	slices.Sort(spread)
	assert.Less(t, spread[0], 2*time.Second, "the first key expires within the first n-th of the TTL")
	assert.InDelta(t, 30, spread[n/2].Seconds(), 1, "the median key at half the TTL")
	assert.InDelta(t, 60, spread[n-1].Seconds(), 1, "the last at the full TTL")
}
