// Package demo measures two Redis optimizations against their naive versions: pipelining versus
// one round trip per command, and a Lua check-and-set versus WATCH/MULTI/EXEC retries under
// contention.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RoundTrips is the outcome of writing N keys.
type RoundTrips struct {
	Commands   int
	RoundTrips int
	Elapsed    time.Duration
}

// SetOneByOne writes n keys with one round trip each.
func SetOneByOne(ctx context.Context, rdb redis.Cmdable, prefix string, n int) (RoundTrips, error) {
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := rdb.Set(ctx, prefix+strconv.Itoa(i), i, 0).Err(); err != nil {
			return RoundTrips{}, err
		}
	}
	return RoundTrips{n, n, time.Since(start)}, nil
}

// SetPipelined writes n keys in pipelines of batch commands: one round trip per batch.
func SetPipelined(ctx context.Context, rdb redis.Cmdable, prefix string, n, batch int) (RoundTrips, error) {
	start := time.Now()
	trips := 0
	for i := 0; i < n; i += batch {
		p := rdb.Pipeline()
		for j := i; j < min(i+batch, n); j++ {
			p.Set(ctx, prefix+strconv.Itoa(j), j, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return RoundTrips{}, err
		}
		trips++
	}
	return RoundTrips{n, trips, time.Since(start)}, nil
}

// Contention is the outcome of workers each buying items until stock runs out.
type Contention struct {
	Sold    int64
	Retries int64
	Elapsed time.Duration
}

// BuyWithWatch decrements stock with optimistic locking: WATCH, read, MULTI/DECR/EXEC, and retry
// whenever another buyer touched the key in between.
func BuyWithWatch(ctx context.Context, rdb *redis.Client, key string, workers int) (Contention, error) {
	var sold, retries atomic.Int64
	start := time.Now()
	err := runWorkers(workers, func() (bool, error) {
		for {
			bought := false
			err := rdb.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, key).Int64()
				if err != nil {
					return err
				}
				if n <= 0 {
					return nil
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Decr(ctx, key)
					return nil
				})
				bought = err == nil
				return err
			}, key)
			if errors.Is(err, redis.TxFailedErr) {
				retries.Add(1)
				continue
			}
			if err != nil {
				return false, err
			}
			if bought {
				sold.Add(1)
			}
			return bought, nil
		}
	})
	return Contention{sold.Load(), retries.Load(), time.Since(start)}, err
}

// buyScript checks and decrements in one atomic step on the server: no retries, one round trip.
var buyScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 0 then return 0 end
redis.call('DECR', KEYS[1])
return 1`)

// BuyWithLua decrements stock with the Lua script.
func BuyWithLua(ctx context.Context, rdb *redis.Client, key string, workers int) (Contention, error) {
	var sold atomic.Int64
	start := time.Now()
	err := runWorkers(workers, func() (bool, error) {
		ok, err := buyScript.Run(ctx, rdb, []string{key}).Int()
		if err != nil {
			return false, err
		}
		if ok == 1 {
			sold.Add(1)
		}
		return ok == 1, nil
	})
	return Contention{Sold: sold.Load(), Elapsed: time.Since(start)}, err
}

// runWorkers calls buy on every worker until it reports sold out.
func runWorkers(workers int, buy func() (bool, error)) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ok, err := buy()
				if err != nil {
					errs <- fmt.Errorf("demo: buy: %w", err)
					return
				}
				if !ok {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
