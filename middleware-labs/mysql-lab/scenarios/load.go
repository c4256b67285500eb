package scenarios

import (
	"context"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// latencies collects the durations of a closed-loop load.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.mu.Unlock()
}

// quantileMs is the q-quantile in milliseconds (0 without samples).
func (l *latencies) quantileMs(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == 0 {
		return 0
	}
	s := append([]time.Duration{}, l.all...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[min(len(s)-1, int(q*float64(len(s))))]) / float64(time.Millisecond)
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// closedLoop runs workers until ctx ends or d passes, each calling op with its own seeded random
// source (env.Rand is not safe for concurrent use); the first error stops the load.
func closedLoop(ctx context.Context, d time.Duration, workers int, seeds []uint64, op func(ctx context.Context, r *rand.Rand) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seeds[w], uint64(w)))
			for ctx.Err() == nil {
				if err := op(ctx, r); err != nil {
					if ctx.Err() == nil {
						errs <- err
						cancel()
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func seedsFrom(r *rand.Rand, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64()
	}
	return out
}
