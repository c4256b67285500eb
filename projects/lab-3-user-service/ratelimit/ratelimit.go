// Package ratelimit limits login attempts with fixed-window counters keyed by client IP and by
// account. The counter lives in Redis when configured, so every replica sees the same count (an
// attacker cannot multiply the budget by spreading over replicas); Memory is the fallback.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Counter increments key within a window and returns the new count and the time until the
// window resets.
type Counter interface {
	Incr(ctx context.Context, key string, window time.Duration) (count int64, resetIn time.Duration, err error)
}

// Limiter allows at most Limit events per Window per key.
type Limiter struct {
	counter Counter
	limit   int64
	window  time.Duration
}

// New returns a Limiter.
func New(c Counter, limit int64, window time.Duration) *Limiter {
	return &Limiter{counter: c, limit: limit, window: window}
}

// Allow counts one event for key and reports whether it is within the limit. When refused,
// retryAfter says when the window resets.
func (l *Limiter) Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	n, reset, err := l.counter.Incr(ctx, key, l.window)
	if err != nil {
		return false, 0, err
	}
	if n > l.limit {
		return false, reset, nil
	}
	return true, 0, nil
}

// Memory is an in-process Counter.
type Memory struct {
	mu  sync.Mutex
	m   map[string]*window
	now func() time.Time
	ops int
}

type window struct {
	count int64
	reset time.Time
}

// NewMemory returns an empty in-process counter.
func NewMemory() *Memory { return &Memory{m: make(map[string]*window), now: time.Now} }

// Incr implements Counter.
func (m *Memory) Incr(_ context.Context, key string, win time.Duration) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.ops++
	if m.ops%1024 == 0 {
		for k, w := range m.m {
			if !now.Before(w.reset) {
				delete(m.m, k)
			}
		}
	}
	w, ok := m.m[key]
	if !ok || !now.Before(w.reset) {
		w = &window{reset: now.Add(win)}
		m.m[key] = w
	}
	w.count++
	return w.count, w.reset.Sub(now), nil
}

// Redis is a Counter in Redis: INCR, then EXPIRE NX so only the first hit of a window sets it.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a Redis counter.
func NewRedis(c redis.UniversalClient, prefix string) *Redis { return &Redis{c: c, prefix: prefix} }

// Incr implements Counter.
func (r *Redis) Incr(ctx context.Context, key string, win time.Duration) (int64, time.Duration, error) {
	k := r.prefix + key
	pipe := r.c.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.ExpireNX(ctx, k, win)
	ttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, fmt.Errorf("redis incr: %w", err)
	}
	return incr.Val(), ttl.Val(), nil
}

// Fallback uses Primary and, when it fails, Secondary, so an outage of Redis degrades the limit
// to per-process instead of either locking everybody out or turning the limit off.
type Fallback struct {
	Primary, Secondary Counter
	OnError            func(error)
}

// Incr implements Counter.
func (f Fallback) Incr(ctx context.Context, key string, win time.Duration) (int64, time.Duration, error) {
	n, reset, err := f.Primary.Incr(ctx, key, win)
	if err == nil {
		return n, reset, nil
	}
	if f.OnError != nil {
		f.OnError(err)
	}
	return f.Secondary.Incr(ctx, key, win)
}
