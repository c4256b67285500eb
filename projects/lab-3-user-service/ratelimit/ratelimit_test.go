package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMemoryLimiter(t *testing.T) {
	m := NewMemory()
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	l := New(m, 3, time.Minute)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		ok, _, err := l.Allow(ctx, "ip:1")
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, retry, err := l.Allow(ctx, "ip:1")
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, time.Minute, retry)
	ok, _, _ = l.Allow(ctx, "ip:2")
	require.True(t, ok, "keys are independent")
	now = now.Add(time.Minute)
	ok, _, _ = l.Allow(ctx, "ip:1")
	require.True(t, ok, "a new window starts")
}

type failing struct{}

func (failing) Incr(context.Context, string, time.Duration) (int64, time.Duration, error) {
	return 0, 0, errors.New("down")
}

func TestFallback(t *testing.T) {
	var seen error
	l := New(Fallback{Primary: failing{}, Secondary: NewMemory(), OnError: func(err error) { seen = err }}, 1, time.Minute)
	ok, _, err := l.Allow(context.Background(), "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Error(t, seen)
	ok, _, _ = l.Allow(context.Background(), "k")
	require.False(t, ok)
}
