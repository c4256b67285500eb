package cache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/bloom"
)

// Options select the defenses. The zero value is the naive cache-aside every fault starts from.
type Options struct {
	// Prefix namespaces the keys (integration tests share a real Redis).
	Prefix string
	// TTL is the base time to live of a cached product.
	TTL time.Duration
	// Jitter adds a random extra TTL in [0, Jitter·TTL) to every fill, so keys loaded together
	// drift apart instead of expiring together (the avalanche fix, part 1). 0.1 to 0.3 is the
	// usual range: enough to spread a cohort over seconds, little enough that the TTL still
	// bounds staleness.
	Jitter float64
	// StaggerWarm makes Warm spread the first expiries evenly over one TTL (the k-th of n keys
	// gets k/n of the TTL), as if each key had been filled at its own moment of the last TTL:
	// the cache starts in its steady state (the avalanche fix, part 2). A cache warmed in one
	// batch with one TTL otherwise expires in one instant, and jitter of 30% only spreads that
	// instant over 30% of a TTL.
	StaggerWarm bool
	// NullTTL caches "not found" for this long (penetration fix, part 1); 0 disables it.
	NullTTL time.Duration
	// Bloom rejects ids that cannot exist before Redis or the store are asked (penetration fix,
	// part 2).
	Bloom *bloom.Filter
	// Singleflight lets one caller per key reload a missing entry while the others wait for it
	// (the breakdown fix within one process; see LockedFill for the cross-process one).
	Singleflight bool
	// Seed seeds the jitter.
	Seed uint64
}

// Aside is a cache-aside reader: Redis first, the store on a miss, then fill Redis.
type Aside struct {
	rdb   redis.UniversalClient
	store *Store
	opt   Options
	sf    singleflight.Group
	mu    sync.Mutex
	rnd   *rand.Rand

	hits, misses, rejected, fills atomic.Int64
}

// NewAside builds a reader.
func NewAside(rdb redis.UniversalClient, store *Store, opt Options) *Aside {
	if opt.TTL <= 0 {
		opt.TTL = time.Minute
	}
	return &Aside{rdb: rdb, store: store, opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, 7))}
}

// nullMarker is cached for ids the store does not have.
const nullMarker = "\x00nil"

// ErrNotFound is returned for ids that do not exist.
var ErrNotFound = errors.New("cache: product not found")

func (a *Aside) key(id int64) string { return a.opt.Prefix + "product:" + strconv.FormatInt(id, 10) }

// Product returns product id through the cache.
func (a *Aside) Product(ctx context.Context, id int64) (Product, error) {
	key := a.key(id)
	// exercise:begin cache-penetration
	if a.opt.Bloom != nil && !a.opt.Bloom.Test([]byte(strconv.FormatInt(id, 10))) {
		a.rejected.Add(1)
		return Product{}, ErrNotFound
	}
	// exercise:stub
	// // Every id, real or not, goes on to Redis and then the store.
	// exercise:end
	v, err := a.rdb.Get(ctx, key).Result()
	switch {
	case err == nil:
		a.hits.Add(1)
		if v == nullMarker {
			return Product{}, ErrNotFound
		}
		return decodeProduct(v)
	case !errors.Is(err, redis.Nil):
		return Product{}, fmt.Errorf("cache: get %s: %w", key, err)
	}
	a.misses.Add(1)
	if !a.opt.Singleflight {
		return a.fill(ctx, id)
	}
	p, err, _ := a.sf.Do(key, func() (any, error) { return a.fill(ctx, id) })
	if err != nil {
		return Product{}, err
	}
	return p.(Product), nil
}

// fill loads id from the store and caches the answer. Without NullTTL a missing id is not cached,
// so every request for it reaches the store again (penetration). Without Jitter every key loaded
// in the same burst gets the same deadline (avalanche).
func (a *Aside) fill(ctx context.Context, id int64) (Product, error) {
	a.fills.Add(1)
	p, found, err := a.store.Product(ctx, id)
	if err != nil {
		return Product{}, err
	}
	if !found {
		if a.opt.NullTTL > 0 {
			if err := a.rdb.Set(ctx, a.key(id), nullMarker, a.opt.NullTTL).Err(); err != nil {
				return Product{}, fmt.Errorf("cache: set null: %w", err)
			}
		}
		return Product{}, ErrNotFound
	}
	if err := a.rdb.Set(ctx, a.key(id), encodeProduct(p), a.ttl()).Err(); err != nil {
		return Product{}, fmt.Errorf("cache: set: %w", err)
	}
	return p, nil
}

func (a *Aside) ttl() time.Duration {
	if a.opt.Jitter <= 0 {
		return a.opt.TTL
	}
	a.mu.Lock()
	extra := time.Duration(a.rnd.Float64() * a.opt.Jitter * float64(a.opt.TTL))
	a.mu.Unlock()
	return a.opt.TTL + extra
}

// Warm loads ids into the cache in one batch, as a deploy or a cold start does: one store query
// per chunk of ids and one pipeline of SETs, so without StaggerWarm every key gets the same
// deadline to the millisecond.
func (a *Aside) Warm(ctx context.Context, ids []int64) error {
	ps, err := a.store.Products(ctx, ids)
	if err != nil {
		return err
	}
	pipe := a.rdb.Pipeline()
	for i, p := range ps {
		pipe.Set(ctx, a.key(p.ID), encodeProduct(p), a.warmTTL(i, len(ps)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("cache: warm %d keys: %w", len(ps), err)
	}
	return nil
}

// warmTTL is the TTL of the i-th of n keys warmed together.
func (a *Aside) warmTTL(i, n int) time.Duration {
	if !a.opt.StaggerWarm {
		return a.ttl()
	}
	// exercise:begin cache-avalanche
	return max(time.Millisecond, a.opt.TTL*time.Duration(i+1)/time.Duration(n))
	// exercise:stub
	// return a.ttl()
	// exercise:end
}

// Stats are the reader's counters.
type Stats struct{ Hits, Misses, Rejected, Fills int64 }

// Stats returns the counters.
func (a *Aside) Stats() Stats {
	return Stats{a.hits.Load(), a.misses.Load(), a.rejected.Load(), a.fills.Load()}
}

func encodeProduct(p Product) string {
	return strconv.FormatInt(p.ID, 10) + "|" + p.Name + "|" + strconv.FormatInt(p.Price, 10) + "|" + strconv.FormatInt(p.Sold, 10)
}

func decodeProduct(s string) (Product, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 4 {
		return Product{}, fmt.Errorf("cache: expected id|name|price|sold, got %q", s)
	}
	var p Product
	var err1, err2, err3 error
	p.ID, err1 = strconv.ParseInt(parts[0], 10, 64)
	p.Name = parts[1]
	p.Price, err2 = strconv.ParseInt(parts[2], 10, 64)
	p.Sold, err3 = strconv.ParseInt(parts[3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Product{}, fmt.Errorf("cache: decode %q: %w", s, err)
	}
	return p, nil
}

// TopSellers is the hot key: the home page's expensive ranking, cached for ttl. Without a guard,
// every caller that finds it expired runs the full aggregation at once (breakdown).
func (a *Aside) TopSellers(ctx context.Context, ttl time.Duration) ([]int64, error) {
	key := a.opt.Prefix + "top-sellers"
	v, err := a.rdb.Get(ctx, key).Result()
	if err == nil {
		a.hits.Add(1)
		return decodeIDs(v)
	}
	if !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("cache: get %s: %w", key, err)
	}
	a.misses.Add(1)
	load := func() (any, error) { return a.refillTopSellers(ctx, key, ttl) }
	if !a.opt.Singleflight {
		ids, err := load()
		if err != nil {
			return nil, err
		}
		return ids.([]int64), nil
	}
	// exercise:begin cache-breakdown
	ids, err, _ := a.sf.Do(key, load)
	if err != nil {
		return nil, err
	}
	return ids.([]int64), nil
	// exercise:stub
	// ids, err := load()
	// if err != nil {
	// 	return nil, err
	// }
	// return ids.([]int64), nil
	// exercise:end
}

func (a *Aside) refillTopSellers(ctx context.Context, key string, ttl time.Duration) ([]int64, error) {
	a.fills.Add(1)
	ids, err := a.store.TopSellers(ctx, 10)
	if err != nil {
		return nil, err
	}
	if err := a.rdb.Set(ctx, key, encodeIDs(ids), ttl).Err(); err != nil {
		return nil, fmt.Errorf("cache: set %s: %w", key, err)
	}
	return ids, nil
}

// LockedFill is the cross-process breakdown fix: SET lock NX PX elects one loader among every
// process; the others poll the cache until the winner has filled it (or the lock lapses).
func (a *Aside) LockedFill(ctx context.Context, key string, ttl time.Duration, load func(context.Context) (string, error)) (string, error) {
	lock := key + ":lock"
	for {
		v, err := a.rdb.Get(ctx, key).Result()
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("cache: get %s: %w", key, err)
		}
		ok, err := a.rdb.SetNX(ctx, lock, "1", 5*time.Second).Result()
		if err != nil {
			return "", fmt.Errorf("cache: lock %s: %w", lock, err)
		}
		if ok {
			v, err := load(ctx)
			if err == nil {
				err = a.rdb.Set(ctx, key, v, ttl).Err()
			}
			a.rdb.Del(context.WithoutCancel(ctx), lock)
			return v, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func encodeIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func decodeIDs(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	ids := make([]int64, len(parts))
	for i, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cache: decode ids %q: %w", s, err)
		}
		ids[i] = id
	}
	return ids, nil
}

// NearCache is a process-local cache with a short TTL in front of Redis: the hot-key fix. A hot
// key is then read from Redis once per TTL per process instead of on every request.
type NearCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]nearEntry
}

type nearEntry struct {
	v  string
	at time.Time
}

// NewNearCache returns a near cache with the given TTL.
func NewNearCache(ttl time.Duration) *NearCache {
	return &NearCache{ttl: ttl, m: map[string]nearEntry{}}
}

// Get returns key from the near cache or through fetch.
func (n *NearCache) Get(ctx context.Context, key string, fetch func(context.Context, string) (string, error)) (string, error) {
	// exercise:begin hot-key
	now := time.Now()
	n.mu.Lock()
	e, ok := n.m[key]
	n.mu.Unlock()
	if ok && now.Sub(e.at) < n.ttl {
		return e.v, nil
	}
	v, err := fetch(ctx, key)
	if err != nil {
		return "", err
	}
	n.mu.Lock()
	n.m[key] = nearEntry{v, now}
	n.mu.Unlock()
	return v, nil
	// exercise:stub
	// return fetch(ctx, key)
	// exercise:end
}

// ClusterReader reads keys from a Redis Cluster, optionally through a NearCache. Without one,
// every read of a hot key lands on the one node that owns its slot.
type ClusterReader struct {
	rdb  redis.UniversalClient
	near *NearCache
}

// NewClusterReader builds a reader; near may be nil.
func NewClusterReader(rdb redis.UniversalClient, near *NearCache) *ClusterReader {
	return &ClusterReader{rdb: rdb, near: near}
}

// Get reads key.
func (r *ClusterReader) Get(ctx context.Context, key string) (string, error) {
	if r.near != nil {
		return r.near.Get(ctx, key, r.fetch)
	}
	return r.fetch(ctx, key)
}

// fetch is the network read from the node that owns key's slot: with no near cache it runs for
// every request, so every read of a hot key lands on one node.
func (r *ClusterReader) fetch(ctx context.Context, key string) (string, error) {
	v, err := r.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}
