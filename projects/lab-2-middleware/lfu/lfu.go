// Package lfu is a fixed-capacity least-frequently-used cache with O(1) get, put and evict
// (Shah, Mitra and Matani, "An O(1) algorithm for implementing the LFU cache eviction scheme", 2010).
// It supports an optional per-entry TTL and eviction callbacks and is safe for concurrent use.
//
// There is no heap. Entries with the same use count hang off one frequency bucket; buckets form an
// ascending doubly linked list. A hit moves the entry to the bucket for count+1, which is either the
// next bucket or a new one inserted right after, so every step is a constant number of pointer
// writes. The victim is the least recently used entry of the lowest bucket, which breaks ties by
// recency.
package lfu

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Reason says why an entry left the cache.
type Reason int

const (
	// Evicted means the entry had the lowest use count when space was needed.
	Evicted Reason = iota
	// Expired means the entry's TTL had passed when it was next looked at.
	Expired
	// Removed means the caller deleted it.
	Removed
)

func (r Reason) String() string {
	switch r {
	case Evicted:
		return "evicted"
	case Expired:
		return "expired"
	case Removed:
		return "removed"
	default:
		return fmt.Sprintf("reason(%d)", int(r))
	}
}

// ErrCapacity is returned by New for a capacity below 1.
var ErrCapacity = errors.New("lfu: capacity must be at least 1")

type entry[K comparable, V any] struct {
	key        K
	value      V
	expires    int64
	bucket     *bucket[K, V]
	prev, next *entry[K, V]
}

type bucket[K comparable, V any] struct {
	freq       uint64
	head       entry[K, V] // sentinel: head.next most recent, head.prev least recent
	prev, next *bucket[K, V]
}

func (b *bucket[K, V]) empty() bool { return b.head.next == &b.head }

// Cache is an LFU cache. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	items   map[K]*entry[K, V]
	root    bucket[K, V] // sentinel of the bucket list: root.next has the lowest count
	spare   *bucket[K, V]
	cap     int
	ttl     time.Duration
	now     func() time.Time
	onEvict func(K, V, Reason)
}

// Option configures a Cache.
type Option[K comparable, V any] func(*Cache[K, V])

// WithTTL gives every entry put with Put this time to live. Zero means no expiry.
func WithTTL[K comparable, V any](ttl time.Duration) Option[K, V] {
	return func(c *Cache[K, V]) { c.ttl = ttl }
}

// WithOnEvict registers a callback run, outside the lock, for every entry that leaves the cache.
func WithOnEvict[K comparable, V any](fn func(key K, value V, why Reason)) Option[K, V] {
	return func(c *Cache[K, V]) { c.onEvict = fn }
}

// WithClock replaces time.Now.
func WithClock[K comparable, V any](now func() time.Time) Option[K, V] {
	return func(c *Cache[K, V]) { c.now = now }
}

// New returns an empty cache holding at most capacity entries.
func New[K comparable, V any](capacity int, opts ...Option[K, V]) (*Cache[K, V], error) {
	if capacity < 1 {
		return nil, fmt.Errorf("%w, got %d", ErrCapacity, capacity)
	}
	c := &Cache[K, V]{items: make(map[K]*entry[K, V], capacity), cap: capacity, now: time.Now}
	c.root.next, c.root.prev = &c.root, &c.root
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

func (c *Cache[K, V]) newBucket(freq uint64) *bucket[K, V] {
	b := c.spare
	if b != nil {
		c.spare = nil
	} else {
		b = new(bucket[K, V])
	}
	b.freq = freq
	b.head.next, b.head.prev = &b.head, &b.head
	return b
}

// insertBucketAfter links nb after b in the bucket list.
func (c *Cache[K, V]) insertBucketAfter(b, nb *bucket[K, V]) {
	nb.prev = b
	nb.next = b.next
	b.next.prev = nb
	b.next = nb
}

func (c *Cache[K, V]) removeBucket(b *bucket[K, V]) {
	b.prev.next = b.next
	b.next.prev = b.prev
	b.prev, b.next = nil, nil
	c.spare = b
}

func (c *Cache[K, V]) unlinkEntry(e *entry[K, V]) {
	e.prev.next = e.next
	e.next.prev = e.prev
	b := e.bucket
	e.bucket = nil
	if b.empty() {
		c.removeBucket(b)
	}
}

func pushEntry[K comparable, V any](b *bucket[K, V], e *entry[K, V]) {
	e.bucket = b
	e.prev = &b.head
	e.next = b.head.next
	b.head.next.prev = e
	b.head.next = e
}

// touch moves e from its bucket to the bucket for count+1.
func (c *Cache[K, V]) touch(e *entry[K, V]) {
	b := e.bucket
	nb := b.next
	if nb == &c.root || nb.freq != b.freq+1 {
		if b.head.next == e && b.head.prev == e {
			// e is alone in its bucket: bump the bucket in place.
			b.freq++
			return
		}
		nb = c.newBucket(b.freq + 1)
		c.insertBucketAfter(b, nb)
	}
	e.prev.next = e.next
	e.next.prev = e.prev
	if b.empty() {
		c.removeBucket(b)
	}
	pushEntry(nb, e)
}

func (c *Cache[K, V]) expired(e *entry[K, V]) bool {
	return e.expires != 0 && c.now().UnixNano() >= e.expires
}

type gone[K comparable, V any] struct {
	key   K
	value V
	why   Reason
	ok    bool
}

func (c *Cache[K, V]) notify(g gone[K, V]) {
	if g.ok && c.onEvict != nil {
		c.onEvict(g.key, g.value, g.why)
	}
}

// Get returns the value for key and counts one use.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	e, ok := c.items[key]
	if !ok {
		c.mu.Unlock()
		var zero V
		return zero, false
	}
	if c.expired(e) {
		c.unlinkEntry(e)
		delete(c.items, key)
		c.mu.Unlock()
		c.notify(gone[K, V]{e.key, e.value, Expired, true})
		var zero V
		return zero, false
	}
	c.touch(e)
	v := e.value
	c.mu.Unlock()
	return v, true
}

// Frequency returns the use count of key (0 when absent).
func (c *Cache[K, V]) Frequency(key K) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		return e.bucket.freq
	}
	return 0
}

// Put stores value under key with the default TTL. A new key starts with a count of 1; an existing
// key keeps its count and gains one use.
func (c *Cache[K, V]) Put(key K, value V) { c.PutWithTTL(key, value, c.ttl) }

// PutWithTTL stores value under key; it expires after ttl (zero: never).
func (c *Cache[K, V]) PutWithTTL(key K, value V, ttl time.Duration) {
	var exp int64
	if ttl > 0 {
		exp = c.now().Add(ttl).UnixNano()
	}
	c.mu.Lock()
	if e, ok := c.items[key]; ok {
		e.value, e.expires = value, exp
		c.touch(e)
		c.mu.Unlock()
		return
	}
	var out gone[K, V]
	var e *entry[K, V]
	if len(c.items) >= c.cap {
		e = c.root.next.head.prev // least recent entry of the lowest count
		c.unlinkEntry(e)
		delete(c.items, e.key)
		out = gone[K, V]{e.key, e.value, Evicted, true}
		if c.expired(e) {
			out.why = Expired
		}
	} else {
		e = new(entry[K, V])
	}
	e.key, e.value, e.expires = key, value, exp
	first := c.root.next
	if first == &c.root || first.freq != 1 {
		first = c.newBucket(1)
		c.insertBucketAfter(&c.root, first)
	}
	pushEntry(first, e)
	c.items[key] = e
	c.mu.Unlock()
	c.notify(out)
}

// Remove deletes key and reports whether it was present.
func (c *Cache[K, V]) Remove(key K) bool {
	c.mu.Lock()
	e, ok := c.items[key]
	if ok {
		c.unlinkEntry(e)
		delete(c.items, key)
	}
	c.mu.Unlock()
	if ok {
		c.notify(gone[K, V]{e.key, e.value, Removed, true})
	}
	return ok
}

// Len returns the number of entries, including expired ones not yet looked at.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Victim returns the key that the next insert into a full cache would evict.
func (c *Cache[K, V]) Victim() (K, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) == 0 {
		var zero K
		return zero, false
	}
	return c.root.next.head.prev.key, true
}
