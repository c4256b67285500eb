package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/bloom"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cache"
)

// workers runs fn on n goroutines until ctx ends or one fails. Each call is
// one user request in traffic; every worker keeps its own tally until it
// ends, so the workers share no lock the block profile would pick up.
func workers(ctx context.Context, traffic *runner.Traffic, n int, seed uint64, fn func(ctx context.Context, rnd *rand.Rand) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := runner.NewTraffic()
			defer traffic.Merge(mine)
			for ctx.Err() == nil {
				t0 := time.Now()
				err := fn(ctx, rnd)
				if ctx.Err() != nil {
					return // cut off by the window's end: not the service's doing
				}
				mine.Observe(time.Since(t0), err)
				if err != nil {
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
	// Warm the cache with the real catalogue in one batch, as production would be (and so the
	// warm-up does not run fill: the profile then shows only the reads' own fills).
	ids := make([]int64, products)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if err := a.Warm(ctx, ids); err != nil {
		return err
	}
	base := b.store.Queries()
	env.Series("store_queries", func() float64 { return float64(b.store.Queries() - base) })
	var n atomic.Int64
	wctx, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	err = workers(wctx, env.Traffic(), 8, env.Seed, func(ctx context.Context, rnd *rand.Rand) error {
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

// runAvalanche: a deploy warms the whole catalogue in one batch (one store query, one pipeline of
// SETs) with one TTL, so every key expires in the same millisecond four fifths into the window and
// the store takes the whole catalogue as one spike. The fix is what a senior engineer ships:
// the warm-up staggers the first expiries over one TTL (StaggerWarm) and every refill adds 20%
// jitter, so the cache starts, and stays, in the steady state where about catalogue/TTL keys
// expire each second. The harm is the store's peak load against its own mean: a database sized
// for the mean is hit by many times that in the fault.
func runAvalanche(ctx context.Context, env *runner.Env) error {
	const products = 200
	b, err := newBackend(ctx, env, "cache-avalanche", products, 10_000)
	if err != nil {
		return err
	}
	reqs, err := requestCounter(env, "cache-avalanche")
	if err != nil {
		return err
	}
	// One expiry wave inside the window with the fault, with time to refill; the next one falls
	// outside it (README: "cache-avalanche: the window and the TTLs").
	ttl := env.Duration * 4 / 5
	opt := cache.Options{Prefix: b.prefix, TTL: ttl, Seed: env.Seed}
	if !env.FaultOn {
		opt.Jitter, opt.StaggerWarm = 0.2, true
	}
	a := cache.NewAside(b.rdb, b.store, opt)
	ids := make([]int64, products)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if err := a.Warm(ctx, ids); err != nil {
		return err
	}
	// A goroutine dump just after the warm-up's TTL has run out, the moment an on-call engineer
	// would look at after a deploy: with the fault every reader is refilling (Aside.fill), with
	// the fix the readers are mostly served from the cache.
	snap := time.AfterFunc(ttl+20*time.Millisecond, func() {
		if err := env.Snapshot(evidence.Goroutine); err != nil {
			env.Log.Error("cache-avalanche: goroutine snapshot", zap.Error(err))
		}
	})
	defer snap.Stop()
	// The store's query counter, sampled every 10 ms; the peak is the busiest 100 ms.
	const tick, span = 10 * time.Millisecond, 10
	base := b.store.Queries()
	var peak atomic.Int64
	env.Series("store_queries", func() float64 { return float64(b.store.Queries() - base) })
	env.Series("store_peak_queries_per_100ms", func() float64 { return float64(peak.Load()) })
	wctx, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	started := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(tick)
		defer t.Stop()
		var ring [span]int64
		for i := 0; ; i++ {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
				cur := b.store.Queries()
				if d := cur - ring[i%span]; i >= span && d > peak.Load() {
					peak.Store(d)
				}
				ring[i%span] = cur
			}
		}
	}()
	lat := newLatencies()
	err = workers(wctx, env.Traffic(), 8, env.Seed, func(ctx context.Context, rnd *rand.Rand) error {
		t0 := time.Now()
		_, err := a.Product(ctx, 1+rnd.Int64N(products))
		if err == nil {
			lat.add(time.Since(t0))
		}
		reqs.Inc()
		if ctx.Err() != nil {
			return nil
		}
		return err
	})
	<-done
	if err != nil {
		return err
	}
	elapsed := time.Since(started).Seconds()
	q := b.store.Queries() - base
	mean := float64(q) / elapsed
	peakQPS := float64(peak.Load()) / (span * tick).Seconds()
	env.Record("store_peak_qps", peakQPS)
	env.Record("store_mean_qps", mean)
	env.Record("store_peak_to_mean", peakQPS/max(mean, 1))
	env.Record("store_queries", float64(q))
	env.Record("request_p99_ms", lat.quantile(0.99))
	env.Record("request_max_ms", lat.quantile(1))
	return nil
}

// latencies keeps every sample of a short run (a few hundred thousand at most) for exact quantiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func newLatencies() *latencies { return &latencies{d: make([]time.Duration, 0, 1<<16)} }

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile returns the q-quantile in milliseconds (0 without samples).
func (l *latencies) quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	i := min(len(l.d)-1, int(q*float64(len(l.d))))
	return float64(l.d[i]) / 1e6
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
	err = workers(wctx, env.Traffic(), 32, env.Seed, func(ctx context.Context, rnd *rand.Rand) error {
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
