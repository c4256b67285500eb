package demo

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mini(t testing.TB) *redis.Client {
	s, err := server.New(server.Config{})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 32})
	t.Cleanup(func() { rdb.Close(); s.Close() })
	return rdb
}

// TestPipelining: go test -run TestPipelining -v ./demo prints the numbers the README quotes.
func TestPipelining(t *testing.T) {
	rdb := mini(t)
	ctx := context.Background()
	one, err := SetOneByOne(ctx, rdb, "a:", 10_000)
	require.NoError(t, err)
	piped, err := SetPipelined(ctx, rdb, "b:", 10_000, 100)
	require.NoError(t, err)
	t.Logf("one by one: %d commands, %d round trips, %v", one.Commands, one.RoundTrips, one.Elapsed)
	t.Logf("pipelined:  %d commands, %d round trips, %v (%.1fx faster)", piped.Commands, piped.RoundTrips, piped.Elapsed,
		float64(one.Elapsed)/float64(piped.Elapsed))
	assert.Equal(t, 100, piped.RoundTrips)
	assert.Less(t, piped.Elapsed, one.Elapsed)
}

// TestLuaVersusWatch: 16 buyers race for 2000 items. Both sell exactly 2000 (no oversell); WATCH
// pays for it in retries, Lua in nothing.
func TestLuaVersusWatch(t *testing.T) {
	rdb := mini(t)
	ctx := context.Background()
	const stock, buyers = 2000, 16
	require.NoError(t, rdb.Set(ctx, "stock:watch", stock, 0).Err())
	w, err := BuyWithWatch(ctx, rdb, "stock:watch", buyers)
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, "stock:lua", stock, 0).Err())
	l, err := BuyWithLua(ctx, rdb, "stock:lua", buyers)
	require.NoError(t, err)
	t.Logf("WATCH/MULTI: sold %d, %d retries, %v", w.Sold, w.Retries, w.Elapsed)
	t.Logf("Lua:         sold %d, %d retries, %v (%.1fx faster)", l.Sold, l.Retries, l.Elapsed, float64(w.Elapsed)/float64(l.Elapsed))
	assert.Equal(t, int64(stock), w.Sold)
	assert.Equal(t, int64(stock), l.Sold)
	assert.Equal(t, "0", rdb.Get(ctx, "stock:watch").Val())
	assert.Equal(t, "0", rdb.Get(ctx, "stock:lua").Val())
	assert.Positive(t, w.Retries, "with 16 buyers on one key, WATCH transactions collide")
}

func BenchmarkSet(b *testing.B) {
	rdb := mini(b)
	ctx := context.Background()
	b.Run("one-by-one", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := SetOneByOne(ctx, rdb, "k:", 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipelined", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := SetPipelined(ctx, rdb, "k:", 100, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}
