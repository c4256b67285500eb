package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/bloom"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cache"
)

// workers runs fn on n goroutines until ctx ends or one fails.
func workers(ctx context.Context, n int, seed uint64, fn func(ctx context.Context, rnd *rand.Rand) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := fn(ctx, rnd); err != nil && ctx.Err() == nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// runPenetration: half the requests ask for ids that do not exist (a scraper, a bug, an attack).
// The naive cache-aside never caches "not found", so each of them reaches the store. The fix
// checks a Bloom filter of every existing id first and caches misses for a short while.
func runPenetration(ctx context.Context, env *runner.Env) error {
	const products = 5000
	b, err := newBackend(ctx, env, "cache-penetration", products, 20_000)
	if err != nil {
		return err
	}
	reqs, err := requestCounter(env, "cache-penetration")
	if err != nil {
		return err
	}
	opt := cache.Options{Prefix: b.prefix, TTL: time.Minute}
	if !env.FaultOn {
		ids, err := b.store.IDs(ctx)
		if err != nil {
			return err
		}
		f := bloom.New(len(ids), 0.01)
		for _, id := range ids {
			f.Add([]byte(fmt.Sprint(id)))
		}
		opt.Bloom, opt.NullTTL = f, 30*time.Second
	}
	a := cache.NewAside(b.rdb, b.store, opt)
	// Warm the cache with the real catalogue, as production would be.
	for id := int64(1); id <= products; id += 1 {
		if _, err := a.Product(ctx, id); err != nil {
			return err
		}
	}
	base := b.store.Queries()
	env.Series("store_queries", func() float64 { return float64(b.store.Queries() - base) })
	var n atomic.Int64
	wctx, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	err = workers(wctx, 8, env.Seed, func(ctx context.Context, rnd *rand.Rand) error {
		id := 1 + rnd.Int64N(products)
		if rnd.IntN(2) == 0 {
			id = products + 1 + rnd.Int64N(1<<40) // never existed
		}
		_, err := a.Product(ctx, id)
		if err != nil && !errors.Is(err, cache.ErrNotFound) {
			return err
		}
		n.Add(1)
		reqs.Inc()
		return nil
	})
	if err != nil {
		return err
	}
	q := b.store.Queries() - base
	env.Record("store_queries_per_request", float64(q)/float64(max(n.Load(), 1)))
	env.Record("store_qps", float64(q)/env.Duration.Seconds())
	env.Record("bloom_rejected", float64(a.Stats().Rejected))
	return nil
}

// runAvalanche: the whole catalogue is warmed at once with one TTL, so every key expires in the
// same instant and the store takes the full catalogue as a spike. The fix adds up to +500% random
// jitter to each TTL, spreading the expiries over several TTLs.
func runAvalanche(ctx context.Context, env *runner.Env) error {
	const products = 500
	b, err := newBackend(ctx, env, "cache-avalanche", products, 10_000)
	if err != nil {
		return err
	}
	reqs, err := requestCounter(env, "cache-avalanche")
	if err != nil {
		return err
	}
	ttl := env.Duration / 4
	opt := cache.Options{Prefix: b.prefix, TTL: ttl, Seed: env.Seed}
	if !env.FaultOn {
		opt.Jitter = 5
	}
	a := cache.NewAside(b.rdb, b.store, opt)
	ids := make([]int64, products)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if err := a.Warm(ctx, ids); err != nil {
		return err
	}
	// Count store queries per 250 ms bucket; the peak bucket is the spike the database sees.
	var peak atomic.Int64
	last := b.store.Queries()
	env.Series("store_peak_queries_per_250ms", func() float64 { return float64(peak.Load()) })
	wctx, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
				cur := b.store.Queries()
				if d := cur - last; d > peak.Load() {
					peak.Store(d)
				}
				last = cur
			}
		}
	}()
	err = workers(wctx, 8, env.Seed, func(ctx context.Context, rnd *rand.Rand) error {
		_, err := a.Product(ctx, 1+rnd.Int64N(products))
		reqs.Inc()
		return err
	})
	<-done
	if err != nil {
		return err
	}
	env.Record("store_peak_queries_per_250ms", float64(peak.Load()))
	env.Record("store_queries", float64(b.store.Queries()))
	return nil
}

// runBreakdown: the home page's top-sellers ranking is one hot key over an expensive aggregation.
// Each time it expires, every concurrent request misses and runs the aggregation itself. The fix
// is singleflight: one request reloads, the others wait for its result.
func runBreakdown(ctx context.Context, env *runner.Env) error {
	b, err := newBackend(ctx, env, "cache-breakdown", 2000, 150_000)
	if err != nil {
		return err
	}
	reqs, err := requestCounter(env, "cache-breakdown")
	if err != nil {
		return err
	}
	a := cache.NewAside(b.rdb, b.store, cache.Options{Prefix: b.prefix, Singleflight: !env.FaultOn})
	ttl := 300 * time.Millisecond
	if _, err := a.TopSellers(ctx, ttl); err != nil {
		return err
	}
	b.store.ResetPeak()
	env.Series("store_inflight_peak", func() float64 { return float64(b.store.PeakInflight()) })
	wctx, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	err = workers(wctx, 32, env.Seed, func(ctx context.Context, rnd *rand.Rand) error {
		_, err := a.TopSellers(ctx, ttl)
		reqs.Inc()
		if err != nil && ctx.Err() != nil {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	env.Record("store_peak_concurrent_loads", float64(b.store.PeakInflight()))
	env.Record("store_loads", float64(a.Stats().Fills))
	return nil
}
