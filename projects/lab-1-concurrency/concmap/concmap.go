// Package concmap holds four ways to share a map between goroutines, behind one interface, so
// benchmarks can compare them across read/write ratios and key-set sizes.
package concmap

import (
	"hash/maphash"
	"sync"
	"unsafe"
)

// Map is what the benchmarks need from a concurrent map.
type Map[K comparable, V any] interface {
	Load(k K) (V, bool)
	Store(k K, v V)
	Delete(k K)
	Len() int
}

// MutexMap guards a map with one sync.Mutex: readers serialise with each other too.
type MutexMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// NewMutexMap returns an empty MutexMap.
func NewMutexMap[K comparable, V any]() *MutexMap[K, V] { return &MutexMap[K, V]{m: map[K]V{}} }

func (m *MutexMap[K, V]) Load(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

func (m *MutexMap[K, V]) Store(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[k] = v
}

func (m *MutexMap[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, k)
}

func (m *MutexMap[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// RWMap guards a map with a sync.RWMutex: readers share the lock, but every RLock still writes
// the lock's reader count, so the cache line bounces between cores.
type RWMap[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// NewRWMap returns an empty RWMap.
func NewRWMap[K comparable, V any]() *RWMap[K, V] { return &RWMap[K, V]{m: map[K]V{}} }

func (m *RWMap[K, V]) Load(k K) (V, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.m[k]
	return v, ok
}

func (m *RWMap[K, V]) Store(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[k] = v
}

func (m *RWMap[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, k)
}

func (m *RWMap[K, V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

// SyncMap adapts sync.Map (a concurrent hash-trie since Go 1.24) to Map.
type SyncMap[K comparable, V any] struct{ m sync.Map }

// NewSyncMap returns an empty SyncMap.
func NewSyncMap[K comparable, V any]() *SyncMap[K, V] { return &SyncMap[K, V]{} }

func (m *SyncMap[K, V]) Load(k K) (V, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (m *SyncMap[K, V]) Store(k K, v V) { m.m.Store(k, v) }
func (m *SyncMap[K, V]) Delete(k K)     { m.m.Delete(k) }

// Len walks the whole map: sync.Map keeps no count.
func (m *SyncMap[K, V]) Len() int {
	n := 0
	m.m.Range(func(any, any) bool { n++; return true })
	return n
}

// ShardedMap spreads keys over independent RWMap shards by hash, so goroutines touching
// different keys rarely touch the same lock.
type ShardedMap[K comparable, V any] struct {
	seed   maphash.Seed
	shards []shard[K, V]
}

type shard[K comparable, V any] struct {
	RWMap[K, V]
	// Pad to a 64-byte cache line so neighbouring shards' locks do not share one. The size of an
	// RWMap does not depend on K and V (the map is a pointer), so [int, int] measures it.
	_ [64 - unsafe.Sizeof(RWMap[int, int]{})]byte
}

// NewShardedMap returns an empty map of n shards (n < 1 means 1).
func NewShardedMap[K comparable, V any](n int) *ShardedMap[K, V] {
	n = max(n, 1)
	s := &ShardedMap[K, V]{seed: maphash.MakeSeed(), shards: make([]shard[K, V], n)}
	for i := range s.shards {
		s.shards[i].m = map[K]V{}
	}
	return s
}

func (s *ShardedMap[K, V]) shardOf(k K) *shard[K, V] {
	return &s.shards[maphash.Comparable(s.seed, k)%uint64(len(s.shards))]
}

func (s *ShardedMap[K, V]) Load(k K) (V, bool) { return s.shardOf(k).Load(k) }
func (s *ShardedMap[K, V]) Store(k K, v V)     { s.shardOf(k).Store(k, v) }
func (s *ShardedMap[K, V]) Delete(k K)         { s.shardOf(k).Delete(k) }

func (s *ShardedMap[K, V]) Len() int {
	n := 0
	for i := range s.shards {
		n += s.shards[i].Len()
	}
	return n
}
