package cache

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAsideAgainstMiniRedisAndSQLite(t *testing.T) {
	s, err := server.New(server.Config{})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer s.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	st, err := OpenSQLite("unit")
	require.NoError(t, err)
	defer st.Close()
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
