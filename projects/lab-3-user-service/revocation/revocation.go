// Package revocation remembers which tokens are used up or revoked: refresh tokens already
// rotated (so a replay is detected), refresh-token families revoked after a replay, and access
// tokens revoked by logout. Entries expire with the token they describe, so the set stays small.
// Redis holds it when configured (shared by every replica); Memory is the single-process fallback.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store is the revocation state.
type Store interface {
	// Claim marks key used and reports whether this call was the first to do so.
	Claim(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
	// Revoke marks key revoked for ttl.
	Revoke(ctx context.Context, key string, ttl time.Duration) error
	// Revoked reports whether key is revoked (or claimed).
	Revoked(ctx context.Context, key string) (bool, error)
}

// Memory is an in-process Store.
type Memory struct {
	mu      sync.Mutex
	entries map[string]time.Time
	now     func() time.Time
	ops     int
}

// NewMemory returns an empty in-process store.
func NewMemory() *Memory {
	return &Memory{entries: make(map[string]time.Time), now: time.Now}
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gcLocked()
	if exp, ok := m.entries[key]; ok && m.now().Before(exp) {
		return false, nil
	}
	m.entries[key] = m.now().Add(ttl)
	return true, nil
}

// Revoke implements Store.
func (m *Memory) Revoke(_ context.Context, key string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gcLocked()
	m.entries[key] = m.now().Add(ttl)
	return nil
}

// Revoked implements Store.
func (m *Memory) Revoked(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.entries[key]
	return ok && m.now().Before(exp), nil
}

// gcLocked sweeps expired entries every 1024 writes so memory is bounded by live tokens.
func (m *Memory) gcLocked() {
	m.ops++
	if m.ops%1024 != 0 {
		return
	}
	now := m.now()
	for k, exp := range m.entries {
		if !now.Before(exp) {
			delete(m.entries, k)
		}
	}
}

// Redis is a Store in Redis; keys are prefixed so several services can share a database.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a Redis store using c.
func NewRedis(c redis.UniversalClient, prefix string) *Redis { return &Redis{c: c, prefix: prefix} }

// Claim implements Store with SET NX, which is atomic across replicas.
func (r *Redis) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	err := r.c.SetArgs(ctx, r.prefix+key, 1, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redis claim: %w", err)
	}
	return true, nil
}

// Revoke implements Store.
func (r *Redis) Revoke(ctx context.Context, key string, ttl time.Duration) error {
	if err := r.c.Set(ctx, r.prefix+key, 1, ttl).Err(); err != nil {
		return fmt.Errorf("redis revoke: %w", err)
	}
	return nil
}

// Revoked implements Store.
func (r *Redis) Revoked(ctx context.Context, key string) (bool, error) {
	n, err := r.c.Exists(ctx, r.prefix+key).Result()
	if err != nil {
		return false, fmt.Errorf("redis revoked: %w", err)
	}
	return n > 0, nil
}
