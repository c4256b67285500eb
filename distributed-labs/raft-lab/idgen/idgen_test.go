package idgen_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/idgen"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock moves only when told to, or when the generator sleeps.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
}
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestSnowflakeRollback(t *testing.T) {
	tests := []struct {
		name       string
		back       time.Duration
		trust      bool
		wantErr    error
		wantDups   bool
		wantWaited bool
	}{
		{name: "a small step back is waited out", back: 5 * time.Millisecond, wantWaited: true},
		{name: "a large step back is refused", back: 2 * time.Second, wantErr: idgen.ErrClockRollback},
		{name: "trusting the clock reissues IDs", back: 5 * time.Millisecond, trust: true, wantDups: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: idgen.Epoch.Add(time.Hour)}
			g, err := idgen.NewSnowflake(idgen.Config{Node: 7, Clock: clock, TrustClock: tt.trust})
			require.NoError(t, err)
			var c idgen.Checker
			issue := func(ms int) {
				for range ms {
					var batch []int64
					for range 10 {
						id, err := g.Next()
						require.NoError(t, err)
						batch = append(batch, id)
					}
					c.Add(batch)
					clock.add(time.Millisecond)
				}
			}
			issue(10)
			clock.add(-tt.back)
			_, err = g.Next()
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				clock.add(tt.back + time.Millisecond) // caught up: it issues again
				_, err = g.Next()
				require.NoError(t, err)
				return
			}
			require.NoError(t, err)
			issue(10)
			dups, _ := c.Duplicates()
			assert.Equal(t, tt.wantDups, len(dups) > 0, "duplicates: %d", len(dups))
			// The clock was one millisecond past the last ID when it stepped back.
			assert.Equal(t, tt.wantWaited, clock.slept >= tt.back-time.Millisecond, "slept %s", clock.slept)
		})
	}
}

func TestSnowflakeIDsAreUniqueAcrossNodesAndDecode(t *testing.T) {
	var c idgen.Checker
	var wg sync.WaitGroup
	for node := range 4 {
		g, err := idgen.NewSnowflake(idgen.Config{Node: node})
		require.NoError(t, err)
		wg.Go(func() {
			batch := make([]int64, 0, 250_000)
			last := int64(-1)
			for range cap(batch) {
				id, err := g.Next()
				if err != nil {
					t.Error(err)
					return
				}
				if id <= last {
					t.Errorf("node %d: id %d after %d", node, id, last)
					return
				}
				last = id
				batch = append(batch, id)
			}
			c.Add(batch)
			at, n, _ := idgen.Parts(last)
			assert.Equal(t, node, n)
			assert.WithinDuration(t, time.Now(), at, time.Minute)
		})
	}
	wg.Wait()
	dups, extra := c.Duplicates()
	assert.Equal(t, 1_000_000, c.Len())
	assert.Empty(t, dups)
	assert.Zero(t, extra)
}

func TestSnowflakeRejectsABadNode(t *testing.T) {
	for _, node := range []int{-1, 1024} {
		_, err := idgen.NewSnowflake(idgen.Config{Node: node})
		require.ErrorContains(t, err, "expected 0..1023")
	}
}

// storeKV is the KV interface over an in-memory kv.Store: what a cluster
// of one would answer.
type storeKV struct{ s *kv.Store }

func (k storeKV) Get(_ context.Context, key string) (kvhttp.GetReply, error) {
	e, found, rev := k.s.GetAt(key)
	return kvhttp.GetReply{Value: e.Value, Found: found, Rev: e.ModRev, StoreRev: rev}, nil
}

func (k storeKV) CAS(_ context.Context, key, expect string, absent bool, value string) (kv.Result, error) {
	b, err := kv.Command{Op: kv.OpCAS, Key: key, Expect: expect, ExpectAbsent: absent, Value: value}.Encode()
	if err != nil {
		return kv.Result{}, err
	}
	return k.s.Apply(b).(kv.Result), nil
}

func TestSegmentsFromSeveralAllocatorsAreUnique(t *testing.T) {
	store := storeKV{kv.New()}
	var c idgen.Checker
	var wg sync.WaitGroup
	for range 3 {
		s, err := idgen.NewSegments(store, "ids/orders", 100)
		require.NoError(t, err)
		wg.Go(func() {
			defer s.Close()
			var batch []int64
			last := int64(0)
			for range 5000 {
				id, err := s.Next(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if id <= last {
					t.Errorf("id %d after %d", id, last)
					return
				}
				last = id
				batch = append(batch, id)
			}
			c.Add(batch)
		})
	}
	wg.Wait()
	dups, _ := c.Duplicates()
	assert.Empty(t, dups)
	assert.Equal(t, 15000, c.Len())
	e, _ := store.s.Get("ids/orders")
	assert.NotEmpty(t, e.Value)

	_, err := idgen.NewSegments(store, "x", 1)
	assert.ErrorContains(t, err, "expected at least 10")
}

func BenchmarkSnowflake(b *testing.B) {
	g, err := idgen.NewSnowflake(idgen.Config{Node: 1})
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSegments(b *testing.B) {
	s, err := idgen.NewSegments(storeKV{kv.New()}, "ids/bench", 1000)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for range b.N {
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChecker(b *testing.B) {
	ids := make([]int64, 1_000_000)
	for i := range ids {
		ids[i] = int64(i * 7919 % len(ids))
	}
	b.ResetTimer()
	for range b.N {
		var c idgen.Checker
		c.Add(ids)
		if dups, _ := c.Duplicates(); len(dups) != 0 {
			b.Fatal("duplicates in a permutation")
		}
	}
}
