package concmap

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var impls = []struct {
	name string
	new  func() Map[int, int]
}{
	{"mutex", func() Map[int, int] { return NewMutexMap[int, int]() }},
	{"rwmutex", func() Map[int, int] { return NewRWMap[int, int]() }},
	{"sync.Map", func() Map[int, int] { return NewSyncMap[int, int]() }},
	{"sharded-32", func() Map[int, int] { return NewShardedMap[int, int](32) }},
}

func TestSemantics(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			m := im.new()
			_, ok := m.Load(1)
			assert.False(t, ok)
			m.Store(1, 10)
			m.Store(2, 20)
			m.Store(1, 11)
			v, ok := m.Load(1)
			assert.True(t, ok)
			assert.Equal(t, 11, v)
			assert.Equal(t, 2, m.Len())
			m.Delete(1)
			_, ok = m.Load(1)
			assert.False(t, ok)
			assert.Equal(t, 1, m.Len())
		})
	}
}

// TestConcurrentDisjointWriters: each writer owns a key range, so the final content is known.
func TestConcurrentDisjointWriters(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			m := im.new()
			var wg sync.WaitGroup
			const writers, per = 8, 500
			for w := range writers {
				wg.Go(func() {
					for i := range per {
						k := w*per + i
						m.Store(k, k*2)
						if v, ok := m.Load(k); !ok || v != k*2 {
							t.Errorf("key %d: got %d,%v", k, v, ok)
						}
						if i%2 == 1 {
							m.Delete(k)
						}
					}
				})
			}
			wg.Wait()
			assert.Equal(t, writers*per/2, m.Len())
		})
	}
}

func TestShardPadding(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(shard[int, int]{}))
}

// BenchmarkMap: every goroutine (GOMAXPROCS of them) does reads% Loads and the rest Stores on
// uniformly random keys from a pre-filled key set.
func BenchmarkMap(b *testing.B) {
	for _, keys := range []int{1_000, 100_000} {
		for _, reads := range []int{99, 90, 50} {
			for _, im := range impls {
				b.Run(fmt.Sprintf("keys=%d/reads=%d/%s", keys, reads, im.name), func(b *testing.B) {
					m := im.new()
					for k := range keys {
						m.Store(k, k)
					}
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						r := rand.New(rand.NewPCG(rand.Uint64(), 1))
						for pb.Next() {
							k := r.IntN(keys)
							if r.IntN(100) < reads {
								m.Load(k)
							} else {
								m.Store(k, k)
							}
						}
					})
				})
			}
		}
	}
}
