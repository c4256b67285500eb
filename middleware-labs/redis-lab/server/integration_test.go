//go:build integration

package server

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

// TestBigKeyOnRealRedis shows the big-key fault on the real thing: DEL of a hash of a million
// fields blocks the real Redis for the whole free, UNLINK returns at once (lazyfree). The same
// comparison on the mini Redis is the big-key scenario.
func TestBigKeyOnRealRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: servicetest.Require(t, "REDIS_ADDR")})
	defer rdb.Close()
	ctx := context.Background()
	key := fmt.Sprintf("lab5:it:bigkey:%d", time.Now().UnixNano())
	defer rdb.Del(ctx, key)
	build := func() {
		for i := 0; i < 1_000_000; i += 10_000 {
			p := rdb.Pipeline()
			args := make([]any, 0, 2*1000)
			for j := i; j < i+10_000; j++ {
				args = append(args, "field:"+strconv.Itoa(j), "v")
				if len(args) == cap(args) {
					p.HSet(ctx, key, args...)
					args = args[:0]
				}
			}
			_, err := p.Exec(ctx)
			require.NoError(t, err)
		}
		require.Equal(t, int64(1_000_000), rdb.HLen(ctx, key).Val())
	}
	build()
	start := time.Now()
	require.Equal(t, int64(1), rdb.Del(ctx, key).Val())
	del := time.Since(start)
	build()
	start = time.Now()
	require.Equal(t, int64(1), rdb.Unlink(ctx, key).Val())
	unlink := time.Since(start)
	t.Logf("real Redis, hash of 1M fields: DEL %v, UNLINK %v", del, unlink)
	assert.Greater(t, del, 10*unlink)
}
