//go:build integration

package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

// TestPostgresStore runs the store contract against a real PostgreSQL: values, bounded
// concurrency (the pool), the service time spent in the server, and the down switch.
func TestPostgresStore(t *testing.T) {
	dsn := servicetest.Require(t, "POSTGRES_DSN")
	ctx := context.Background()
	p, err := NewPostgres(ctx, dsn, 2, 20*time.Millisecond)
	require.NoError(t, err)
	defer p.Close()

	v, err := p.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "value-of-k", v)

	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := p.Get(ctx, "k"); assert.NoError(t, err) }()
	}
	wg.Wait()
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "4 queries on 2 connections")

	p.SetDown(true)
	_, err = p.Get(ctx, "k")
	assert.ErrorIs(t, err, ErrUnavailable)

	_, err = NewPostgres(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", 1, 0)
	assert.Error(t, err, "unreachable address is an error naming it")
}
