// Package lru is a fixed-capacity least-recently-used cache with O(1) get, put and evict,
// optional per-entry TTL and eviction callbacks. It is safe for concurrent use.
//
// The recency order is an intrusive doubly linked list with a sentinel node, indexed by a map.
// A hit moves the entry to the front; an insert into a full cache reuses the node of the entry
// it evicts, so a steady-state Put does not allocate.
package lru

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Reason says why an entry left the cache.
type Reason int

const (
	// Evicted means the entry was the least recently used when space was needed.
	Evicted Reason = iota
	// Expired means the entry's TTL had passed when it was next looked at.
	Expired
	// Removed means the caller deleted it (Remove or Purge).
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
var ErrCapacity = errors.New("lru: capacity must be at least 1")

type node[K comparable, V any] struct {
	key        K
	value      V
	expires    int64 // unix nanoseconds; 0 means never
	prev, next *node[K, V]
}

// Cache is an LRU cache. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	items   map[K]*node[K, V]
	root    node[K, V] // sentinel: root.next is the most recent, root.prev the least
	cap     int
	ttl     time.Duration
	now     func() time.Time
	onEvict func(K, V, Reason)
}

// Option configures a Cache.
type Option[K comparable, V any] func(*Cache[K, V])

// WithTTL gives every entry put with Put this time to live. Zero (the default) means no expiry.
func WithTTL[K comparable, V any](ttl time.Duration) Option[K, V] {
	return func(c *Cache[K, V]) { c.ttl = ttl }
}

// WithOnEvict registers a callback run for every entry that leaves the cache. It runs after the
// cache's lock is released, so it may call back into the cache.
func WithOnEvict[K comparable, V any](fn func(key K, value V, why Reason)) Option[K, V] {
	return func(c *Cache[K, V]) { c.onEvict = fn }
}

// WithClock replaces time.Now, so tests can move time by hand.
func WithClock[K comparable, V any](now func() time.Time) Option[K, V] {
	return func(c *Cache[K, V]) { c.now = now }
}

// New returns an empty cache holding at most capacity entries.
func New[K comparable, V any](capacity int, opts ...Option[K, V]) (*Cache[K, V], error) {
	if capacity < 1 {
		return nil, fmt.Errorf("%w, got %d", ErrCapacity, capacity)
	}
	c := &Cache[K, V]{items: make(map[K]*node[K, V], capacity), cap: capacity, now: time.Now}
	c.root.next, c.root.prev = &c.root, &c.root
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

type evicted[K comparable, V any] struct {
	key   K
	value V
	why   Reason
	ok    bool
}

func (c *Cache[K, V]) notify(e evicted[K, V]) {
	if e.ok && c.onEvict != nil {
		c.onEvict(e.key, e.value, e.why)
	}
}

func (c *Cache[K, V]) unlink(n *node[K, V]) {
	n.prev.next = n.next
	n.next.prev = n.prev
}

func (c *Cache[K, V]) pushFront(n *node[K, V]) {
	n.prev = &c.root
	n.next = c.root.next
	c.root.next.prev = n
	c.root.next = n
}

func (c *Cache[K, V]) expired(n *node[K, V]) bool {
	return n.expires != 0 && c.now().UnixNano() >= n.expires
}

// Get returns the value for key and marks it most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	n, ok := c.items[key]
	if !ok {
		c.mu.Unlock()
		var zero V
		return zero, false
	}
	if c.expired(n) {
		c.unlink(n)
		delete(c.items, key)
		c.mu.Unlock()
		c.notify(evicted[K, V]{n.key, n.value, Expired, true})
		var zero V
		return zero, false
	}
	if c.root.next != n {
		c.unlink(n)
		c.pushFront(n)
	}
	v := n.value
	c.mu.Unlock()
	return v, true
}

// Peek returns the value for key without changing its recency.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.items[key]
	if !ok || c.expired(n) {
		var zero V
		return zero, false
	}
	return n.value, true
}

// Put stores value under key with the cache's default TTL.
func (c *Cache[K, V]) Put(key K, value V) {
	c.PutWithTTL(key, value, c.ttl)
}

// PutWithTTL stores value under key; it expires after ttl (zero: never).
func (c *Cache[K, V]) PutWithTTL(key K, value V, ttl time.Duration) {
	var exp int64
	if ttl > 0 {
		exp = c.now().Add(ttl).UnixNano()
	}
	c.mu.Lock()
	if n, ok := c.items[key]; ok {
		n.value, n.expires = value, exp
		if c.root.next != n {
			c.unlink(n)
			c.pushFront(n)
		}
		c.mu.Unlock()
		return
	}
	var out evicted[K, V]
	var n *node[K, V]
	if len(c.items) >= c.cap {
		// Reuse the victim's node: no allocation once the cache is full.
		n = c.root.prev
		c.unlink(n)
		delete(c.items, n.key)
		out = evicted[K, V]{n.key, n.value, Evicted, true}
		if c.expired(n) {
			out.why = Expired
		}
	} else {
		n = new(node[K, V])
	}
	n.key, n.value, n.expires = key, value, exp
	c.items[key] = n
	c.pushFront(n)
	c.mu.Unlock()
	c.notify(out)
}

// Remove deletes key and reports whether it was present.
func (c *Cache[K, V]) Remove(key K) bool {
	c.mu.Lock()
	n, ok := c.items[key]
	if ok {
		c.unlink(n)
		delete(c.items, key)
	}
	c.mu.Unlock()
	if ok {
		c.notify(evicted[K, V]{n.key, n.value, Removed, true})
	}
	return ok
}

// Len returns the number of entries, including expired ones not yet looked at.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Keys returns the keys from most to least recently used.
func (c *Cache[K, V]) Keys() []K {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]K, 0, len(c.items))
	for n := c.root.next; n != &c.root; n = n.next {
		keys = append(keys, n.key)
	}
	return keys
}

// Purge removes every entry, calling the eviction callback for each.
func (c *Cache[K, V]) Purge() {
	c.mu.Lock()
	var gone []*node[K, V]
	if c.onEvict != nil {
		gone = make([]*node[K, V], 0, len(c.items))
		for n := c.root.next; n != &c.root; n = n.next {
			gone = append(gone, n)
		}
	}
	c.items = make(map[K]*node[K, V], c.cap)
	c.root.next, c.root.prev = &c.root, &c.root
	c.mu.Unlock()
	for _, n := range gone {
		c.onEvict(n.key, n.value, Removed)
	}
}
