// Package bloom is a hand-written Bloom filter: a bit array and k hash functions. It answers
// "definitely not present" or "probably present"; the false-positive rate after n insertions
// into m bits with k hashes is (1 - e^(-k·n/m))^k, which the tests measure against.
//
// The cache-penetration fix puts one in front of the cache: an ID the filter has never seen
// cannot exist in the store, so the request is rejected without touching Redis or the database.
package bloom

import (
	"hash/fnv"
	"math"
	"sync/atomic"
)

// Filter is safe for concurrent Add and Test (bits are set with atomic OR).
type Filter struct {
	bits []atomic.Uint64
	m    uint64
	k    int
}

// New sizes a filter for n items at false-positive rate p: m = -n·ln p / (ln 2)², k = (m/n)·ln 2.
func New(n int, p float64) *Filter {
	if n < 1 {
		n = 1
	}
	if p <= 0 || p >= 1 {
		p = 0.01
	}
	m := uint64(math.Ceil(-float64(n) * math.Log(p) / (math.Ln2 * math.Ln2)))
	k := int(math.Round(float64(m) / float64(n) * math.Ln2))
	return NewWithParams(m, max(k, 1))
}

// NewWithParams builds a filter of m bits and k hash functions.
func NewWithParams(m uint64, k int) *Filter {
	m = max(m, 64)
	return &Filter{bits: make([]atomic.Uint64, (m+63)/64), m: m, k: k}
}

// M is the number of bits, K the number of hash functions.
func (f *Filter) M() uint64 { return f.m }

// K is the number of hash functions.
func (f *Filter) K() int { return f.k }

// hashes derives k indexes from two 64-bit hashes (Kirsch–Mitzenmacher double hashing:
// g_i = h1 + i·h2), which keeps the theoretical rate without k independent hash functions.
func (f *Filter) hashes(key []byte) (uint64, uint64) {
	h := fnv.New64a()
	h.Write(key)
	h1 := h.Sum64()
	h2 := h1>>33 | h1<<31
	h2 ^= 0x9e3779b97f4a7c15
	h2 *= 0xbf58476d1ce4e5b9
	h2 ^= h2 >> 29
	return h1, h2 | 1
}

// Add inserts key.
func (f *Filter) Add(key []byte) {
	h1, h2 := f.hashes(key)
	for i := 0; i < f.k; i++ {
		idx := (h1 + uint64(i)*h2) % f.m
		f.bits[idx/64].Or(1 << (idx % 64))
	}
}

// Test reports whether key may have been added (false: certainly not).
func (f *Filter) Test(key []byte) bool {
	h1, h2 := f.hashes(key)
	for i := 0; i < f.k; i++ {
		idx := (h1 + uint64(i)*h2) % f.m
		if f.bits[idx/64].Load()&(1<<(idx%64)) == 0 {
			return false
		}
	}
	return true
}

// TheoreticalFPR is (1 - e^(-k·n/m))^k for n inserted items.
func (f *Filter) TheoreticalFPR(n int) float64 {
	return math.Pow(1-math.Exp(-float64(f.k)*float64(n)/float64(f.m)), float64(f.k))
}
