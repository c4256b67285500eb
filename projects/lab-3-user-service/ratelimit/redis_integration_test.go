//go:build integration

package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

// TestIntegrationRedisLimiter: the window is shared through Redis, so two limiters (two replicas)
// draw on one budget.
func TestIntegrationRedisLimiter(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: servicetest.Require(t, "REDIS_ADDR")})
	defer c.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "lab3test:" + hex.EncodeToString(b) + ":"
	a, bb := New(NewRedis(c, prefix), 3, time.Minute), New(NewRedis(c, prefix), 3, time.Minute)
	ctx := context.Background()
	for i, l := range []*Limiter{a, bb, a} {
		ok, _, err := l.Allow(ctx, "ip:1")
		require.NoError(t, err)
		require.True(t, ok, "attempt %d", i)
	}
	ok, retry, err := bb.Allow(ctx, "ip:1")
	require.NoError(t, err)
	require.False(t, ok)
	require.Greater(t, retry, 50*time.Second)
}
