package readthrough

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRejectsBadConfig(t *testing.T) {
	s, _ := store.NewSim(1, 0)
	for _, cfg := range []Config{{Capacity: 1}, {Capacity: 1, TTL: time.Second, Jitter: 1}, {Capacity: 0, TTL: time.Second}} {
		_, err := New(s, cfg)
		assert.Error(t, err)
	}
}

// stampede makes n concurrent readers miss key at once and returns the store calls they caused.
func stampede(t *testing.T, cfg Config, n int) int64 {
	t.Helper()
	sim, _ := store.NewSim(4, 20*time.Millisecond)
	m := store.NewMeter(sim, time.Second)
	c, err := New(m, cfg)
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, err := c.Get(context.Background(), "hot")
			assert.NoError(t, err)
			assert.Equal(t, "value-of-hot", v)
		}()
	}
	close(start)
	wg.Wait()
	return m.KeyCalls("hot")
}

func TestBreakdownAndFix(t *testing.T) {
	tests := []struct {
		name     string
		coalesce bool
		max, min int64
	}{
		{"defect: every reader loads", false, 50, 10},
		{"fix: one load", true, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := stampede(t, Config{Capacity: 8, TTL: time.Minute, Coalesce: tt.coalesce}, 50)
			assert.LessOrEqual(t, calls, tt.max)
			assert.GreaterOrEqual(t, calls, tt.min)
		})
	}
}

func TestExpiryJitterAndRefreshAhead(t *testing.T) {
	sim, _ := store.NewSim(4, 0)
	m := store.NewMeter(sim, time.Second)
	c, _ := New(m, Config{Capacity: 8, TTL: 40 * time.Millisecond, Coalesce: true, RefreshAhead: 0.5})
	ctx := context.Background()
	_, _ = c.Get(ctx, "k")
	time.Sleep(25 * time.Millisecond) // 15ms left < 50% of 40ms: this hit refreshes in the background
	_, _ = c.Get(ctx, "k")
	c.Close()
	assert.Equal(t, int64(1), c.Refreshes())
	assert.Equal(t, int64(2), m.KeyCalls("k"))

	fixed, _ := New(m, Config{Capacity: 8, TTL: time.Second})
	jittered, _ := New(m, Config{Capacity: 8, TTL: time.Second, Jitter: 0.5, Seed: 3})
	defer fixed.Close()
	defer jittered.Close()
	seen := map[time.Duration]bool{}
	for range 20 {
		assert.Equal(t, time.Second, fixed.ttl(), "no jitter: every key gets the same TTL")
		d := jittered.ttl()
		assert.True(t, d > 500*time.Millisecond && d <= time.Second, "jittered TTL %v in (0.5s, 1s]", d)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 10, "jitter spreads TTLs")

	expiring, _ := New(m, Config{Capacity: 8, TTL: 5 * time.Millisecond})
	defer expiring.Close()
	_, _ = expiring.Get(ctx, "e")
	time.Sleep(10 * time.Millisecond)
	_, _ = expiring.Get(ctx, "e")
	_, _ = expiring.Get(ctx, "e")
	assert.Equal(t, int64(1), expiring.Expirations(), "one expiry, counted once")
}

func TestStoreErrorIsWrapped(t *testing.T) {
	sim, _ := store.NewSim(1, 0)
	sim.SetDown(true)
	c, _ := New(sim, Config{Capacity: 1, TTL: time.Second, Coalesce: true})
	defer c.Close()
	_, err := c.Get(context.Background(), "k")
	assert.True(t, errors.Is(err, store.ErrUnavailable))
}
