// Package cachesim measures cache policies on access traces: it generates Zipf and scan-heavy
// traces, replays them through this lab's LRU and LFU and through golang-lru and ristretto, and
// draws the hit ratios as an SVG chart. Its test file holds the side-by-side benchmarks.
package cachesim

import (
	"fmt"
	"math/rand/v2"

	hlru "github.com/hashicorp/golang-lru/v2"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/lfu"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/lru"
)

// Trace is a sequence of keys to look up.
type Trace struct {
	Name string
	Keys []uint64
}

// Zipf returns n accesses over `keys` distinct keys, rank r drawn with probability ∝ 1/r^s (s > 1).
func Zipf(seed uint64, n, keys int, s float64) (Trace, error) {
	if n < 1 || keys < 2 || s <= 1 {
		return Trace{}, fmt.Errorf("cachesim: zipf needs n >= 1, keys >= 2 and s > 1, got %d, %d, %v", n, keys, s)
	}
	r := rand.New(rand.NewPCG(seed, 0x21bf))
	z := rand.NewZipf(r, s, 1, uint64(keys-1))
	t := Trace{Name: fmt.Sprintf("zipf(s=%.2f, %d keys)", s, keys), Keys: make([]uint64, n)}
	for i := range t.Keys {
		t.Keys[i] = z.Uint64()
	}
	return t, nil
}

// ScanHeavy is a Zipf trace interrupted every `every` accesses by a scan of `scan` keys that are
// never seen again (a batch job, a backup, a crawler): the workload that flushes an LRU.
func ScanHeavy(seed uint64, n, keys int, s float64, every, scan int) (Trace, error) {
	if every < 1 || scan < 1 {
		return Trace{}, fmt.Errorf("cachesim: scan needs every >= 1 and scan >= 1, got %d and %d", every, scan)
	}
	base, err := Zipf(seed, n, keys, s)
	if err != nil {
		return Trace{}, err
	}
	t := Trace{Name: fmt.Sprintf("zipf(s=%.2f, %d keys) + scan of %d every %d", s, keys, scan, every), Keys: make([]uint64, 0, n+n/every*scan)}
	next := uint64(1 << 40) // scan keys live far above the Zipf keys
	for i, k := range base.Keys {
		if i > 0 && i%every == 0 {
			for range scan {
				t.Keys = append(t.Keys, next)
				next++
			}
		}
		t.Keys = append(t.Keys, k)
	}
	return t, nil
}

// Cache is the read-through surface the simulator needs.
type Cache interface {
	Get(k uint64) bool
	Put(k uint64)
	Close()
}

// Policy builds a cache of a capacity.
type Policy struct {
	Name string
	New  func(capacity int) (Cache, error)
}

// Policies are the caches compared: ours and the anchors.
func Policies() []Policy {
	return []Policy{
		{"ours-lru", func(c int) (Cache, error) { l, err := lru.New[uint64, struct{}](c); return oursLRU{l}, err }},
		{"ours-lfu", func(c int) (Cache, error) { l, err := lfu.New[uint64, struct{}](c); return oursLFU{l}, err }},
		{"golang-lru", func(c int) (Cache, error) { l, err := hlru.New[uint64, struct{}](c); return hashiLRU{l}, err }},
		{"golang-lru-2q", func(c int) (Cache, error) { l, err := hlru.New2Q[uint64, struct{}](c); return hashi2Q{l}, err }},
		{"ristretto", func(c int) (Cache, error) {
			r, err := ristretto.NewCache(&ristretto.Config[uint64, struct{}]{NumCounters: int64(10 * c), MaxCost: int64(c), BufferItems: 64, IgnoreInternalCost: true})
			return ristr{r, true}, err
		}},
	}
}

type oursLRU struct{ c *lru.Cache[uint64, struct{}] }

func (o oursLRU) Get(k uint64) bool { _, ok := o.c.Get(k); return ok }
func (o oursLRU) Put(k uint64)      { o.c.Put(k, struct{}{}) }
func (o oursLRU) Close()            {}

type oursLFU struct{ c *lfu.Cache[uint64, struct{}] }

func (o oursLFU) Get(k uint64) bool { _, ok := o.c.Get(k); return ok }
func (o oursLFU) Put(k uint64)      { o.c.Put(k, struct{}{}) }
func (o oursLFU) Close()            {}

type hashiLRU struct{ c *hlru.Cache[uint64, struct{}] }

func (h hashiLRU) Get(k uint64) bool { _, ok := h.c.Get(k); return ok }
func (h hashiLRU) Put(k uint64)      { h.c.Add(k, struct{}{}) }
func (h hashiLRU) Close()            {}

type hashi2Q struct {
	c *hlru.TwoQueueCache[uint64, struct{}]
}

func (h hashi2Q) Get(k uint64) bool { _, ok := h.c.Get(k); return ok }
func (h hashi2Q) Put(k uint64)      { h.c.Add(k, struct{}{}) }
func (h hashi2Q) Close()            {}

type ristr struct {
	c    *ristretto.Cache[uint64, struct{}]
	wait bool
}

func (r ristr) Get(k uint64) bool { _, ok := r.c.Get(k); return ok }

// Put waits for ristretto's asynchronous admission in the hit-ratio replay (wait), so every Set is
// applied before the next Get as in the other caches; in production (and in the benchmarks) Set
// returns at once and may drop the item.
func (r ristr) Put(k uint64) {
	r.c.Set(k, struct{}{}, 1)
	if r.wait {
		r.c.Wait()
	}
}
func (r ristr) Close() { r.c.Close() }

// HitRatio replays t through c as a read-through cache: a miss is followed by a Put.
func HitRatio(c Cache, t Trace) float64 {
	hits := 0
	for _, k := range t.Keys {
		if c.Get(k) {
			hits++
		} else {
			c.Put(k)
		}
	}
	return float64(hits) / float64(len(t.Keys))
}

// Result is one policy's hit ratio at one capacity on one trace.
type Result struct {
	Trace    string
	Policy   string
	Capacity int
	HitRatio float64
}

// Experiment replays every trace through every policy at every capacity.
func Experiment(traces []Trace, policies []Policy, capacities []int) ([]Result, error) {
	var out []Result
	for _, t := range traces {
		for _, p := range policies {
			for _, c := range capacities {
				cache, err := p.New(c)
				if err != nil {
					return nil, fmt.Errorf("cachesim: %s at %d: %w", p.Name, c, err)
				}
				out = append(out, Result{t.Name, p.Name, c, HitRatio(cache, t)})
				cache.Close()
			}
		}
	}
	return out, nil
}
