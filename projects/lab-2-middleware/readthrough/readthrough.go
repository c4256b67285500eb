// Package readthrough is a cache-aside reader in front of a slow store: Get serves from an LRU
// while the entry is fresh and loads from the store on a miss. It is where the two classic cache
// failures live, each behind a Config switch so the lab can show the defect and its fix:
//
//   - Cache breakdown (缓存击穿): a hot key expires and every concurrent reader misses at once,
//     each calling the store. Fix: Coalesce (one load per key via singleflight) and RefreshAhead
//     (a hit near expiry reloads the key in the background, so it never expires under load).
//   - Cache avalanche (缓存雪崩): keys loaded together with one TTL expire together, and the store
//     sees the whole key set as one burst every TTL. Fix: Jitter spreads each entry's TTL.
package readthrough

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/lru"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/singleflight"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/store"
)

// Config tunes a Cache.
type Config struct {
	Capacity int
	TTL      time.Duration
	// Jitter shortens each entry's TTL by a random fraction in [0, Jitter), so entries loaded
	// together expire apart. 0 gives every entry exactly TTL.
	Jitter float64
	// Coalesce lets one caller per key load from the store while the others wait for its result.
	Coalesce bool
	// RefreshAhead: a hit on an entry with less than this fraction of its TTL left reloads the
	// key in the background (once), so a hot key is replaced before it expires. 0 disables it.
	RefreshAhead float64
	// Seed seeds the jitter, so a run can be replayed.
	Seed uint64
}

type entry struct {
	value   string
	expires time.Time
	ttl     time.Duration
	seen    atomic.Bool // a reader has found this entry expired
}

// Cache is safe for concurrent use. Close stops background refreshes.
type Cache struct {
	cfg   Config
	store store.Store
	lru   *lru.Cache[string, *entry]
	group singleflight.Group[string, string]

	rmu sync.Mutex
	rnd *rand.Rand

	refreshMu  sync.Mutex
	refreshing map[string]bool
	bg         context.Context
	stopBg     context.CancelFunc
	wg         sync.WaitGroup

	expirations, refreshes atomic.Int64
}

// Expirations counts entries that readers found expired (each counted once).
func (c *Cache) Expirations() int64 { return c.expirations.Load() }

// Refreshes counts background refreshes started.
func (c *Cache) Refreshes() int64 { return c.refreshes.Load() }

// New returns an empty cache in front of s.
func New(s store.Store, cfg Config) (*Cache, error) {
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("readthrough: TTL must be positive, got %v", cfg.TTL)
	}
	if cfg.Jitter < 0 || cfg.Jitter >= 1 || cfg.RefreshAhead < 0 || cfg.RefreshAhead >= 1 {
		return nil, fmt.Errorf("readthrough: Jitter and RefreshAhead must be in [0, 1), got %v and %v", cfg.Jitter, cfg.RefreshAhead)
	}
	l, err := lru.New[string, *entry](cfg.Capacity)
	if err != nil {
		return nil, fmt.Errorf("readthrough: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	return &Cache{
		cfg: cfg, store: s, lru: l,
		rnd:        rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		refreshing: map[string]bool{},
		bg:         bg, stopBg: stop,
	}, nil
}

// Close cancels background refreshes and waits for them.
func (c *Cache) Close() {
	c.refreshMu.Lock() // no refresh can be starting while the context is cancelled
	c.stopBg()
	c.refreshMu.Unlock()
	c.wg.Wait()
}

// Get returns key's value from the cache, loading it from the store on a miss.
func (c *Cache) Get(ctx context.Context, key string) (string, error) {
	if e, ok := c.lru.Get(key); ok {
		left := time.Until(e.expires)
		if left > 0 {
			c.refreshAhead(key, e, left)
			return e.value, nil
		}
		if e.seen.CompareAndSwap(false, true) {
			c.expirations.Add(1)
		}
	}
	return c.miss(ctx, key)
}

// The cache-breakdown fix is two functions: a hit close to expiry reloads the key in the
// background (RefreshAhead), so a hot key is replaced before it expires, and a miss loads each key
// once however many callers missed it (Coalesce).

// exercise:begin cache-breakdown
// refreshAhead reloads key in the background when a hit finds less than RefreshAhead of its TTL
// left.
func (c *Cache) refreshAhead(key string, e *entry, left time.Duration) {
	if c.cfg.RefreshAhead > 0 && left < time.Duration(c.cfg.RefreshAhead*float64(e.ttl)) {
		c.refreshInBackground(key)
	}
}

// miss loads key after a cache miss. Without Coalesce every caller that missed goes to the store:
// when a hot key expires under load, that is one store call per concurrent reader.
func (c *Cache) miss(ctx context.Context, key string) (string, error) {
	if !c.cfg.Coalesce {
		return c.load(ctx, key)
	}
	v, err, _ := c.group.Do(key, func() (string, error) {
		// Another caller may have just loaded it while this one queued for the flight.
		if e, ok := c.lru.Peek(key); ok && time.Now().Before(e.expires) {
			return e.value, nil
		}
		return c.load(ctx, key)
	})
	return v, err
}

// exercise:stub
// // refreshAhead never refreshes: a hot key expires under load.
// func (c *Cache) refreshAhead(key string, e *entry, left time.Duration) {}
//
// // miss sends every caller that missed to the store.
// func (c *Cache) miss(ctx context.Context, key string) (string, error) {
// 	return c.load(ctx, key)
// }
// exercise:end

// load reads key from the store and caches it for ttl().
func (c *Cache) load(ctx context.Context, key string) (string, error) {
	v, err := c.store.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("readthrough: load %q: %w", key, err)
	}
	ttl := c.ttl()
	c.lru.Put(key, &entry{value: v, expires: time.Now().Add(ttl), ttl: ttl})
	return v, nil
}

// ttl is the TTL of an entry loaded now. Without Jitter it is the same for every key, so keys
// loaded together expire together.
func (c *Cache) ttl() time.Duration {
	if c.cfg.Jitter == 0 {
		return c.cfg.TTL
	}
	// exercise:begin cache-avalanche
	c.rmu.Lock()
	f := c.rnd.Float64()
	c.rmu.Unlock()
	return time.Duration(float64(c.cfg.TTL) * (1 - c.cfg.Jitter*f))
	// exercise:stub
	// return c.cfg.TTL
	// exercise:end
}

func (c *Cache) refreshInBackground(key string) {
	c.refreshMu.Lock()
	if c.refreshing[key] || c.bg.Err() != nil {
		c.refreshMu.Unlock()
		return
	}
	c.refreshing[key] = true
	c.refreshes.Add(1)
	c.wg.Add(1)
	c.refreshMu.Unlock()
	go func() {
		defer c.wg.Done()
		_, _, _ = c.group.Do(key, func() (string, error) { return c.load(c.bg, key) })
		c.refreshMu.Lock()
		delete(c.refreshing, key)
		c.refreshMu.Unlock()
	}()
}
