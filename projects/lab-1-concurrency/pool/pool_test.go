package pool

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func rows(n int) []Row {
	out := make([]Row, n)
	for i := range out {
		out[i] = Row{ID: i, Name: fmt.Sprintf("user-%d", i), Score: float64(i) / 7}
	}
	return out
}

func TestPooledAndAllocAgree(t *testing.T) {
	var r Renderer
	for _, n := range []int{0, 1, 10, 1000} {
		var a, b bytes.Buffer
		_, err := r.WriteAlloc(&a, rows(n))
		require.NoError(t, err)
		_, err = r.WritePooled(&b, rows(n))
		require.NoError(t, err)
		assert.Equal(t, a.String(), b.String())
	}
	var out bytes.Buffer
	_, _ = r.WritePooled(&out, []Row{{ID: 1, Name: `a"b`, Score: 0.5}})
	assert.Equal(t, "1,\"a\\\"b\",0.500\n", out.String())
}

func TestConcurrentUse(t *testing.T) {
	var r Renderer
	want := func() string { var b bytes.Buffer; _, _ = r.WriteAlloc(&b, rows(50)); return b.String() }()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				var b bytes.Buffer
				_, _ = r.WritePooled(&b, rows(50))
				if b.String() != want {
					t.Error("pooled buffer was shared between goroutines")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHugeBuffersAreNotPooled(t *testing.T) {
	var r Renderer
	_, err := r.WritePooled(io.Discard, rows(5000)) // ~100 KiB
	require.NoError(t, err)
	assert.EqualValues(t, 1, r.Dropped.Load())
}

// TestPoolIsNotACache: a pool keeps its objects only until the next-but-one GC.
func TestPoolIsNotACache(t *testing.T) {
	var p sync.Pool
	marker := &bytes.Buffer{}
	marker.WriteString("pooled")
	p.Put(marker)
	runtime.GC() // moves the pool's content to the victim cache
	runtime.GC() // drops the victim cache
	got := p.Get()
	assert.Nil(t, got, "the pooled object survived two GCs")
}

// BenchmarkRender: a 4 KiB render per op; the pool removes the buffer allocation and its growth.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1, 200} {
		data := rows(n)
		b.Run(fmt.Sprintf("rows=%d/alloc", n), func(b *testing.B) {
			var r Renderer
			b.ReportAllocs()
			for b.Loop() {
				_, _ = r.WriteAlloc(io.Discard, data)
			}
		})
		b.Run(fmt.Sprintf("rows=%d/pool", n), func(b *testing.B) {
			var r Renderer
			b.ReportAllocs()
			for b.Loop() {
				_, _ = r.WritePooled(io.Discard, data)
			}
		})
	}
}

var sink []byte

// BenchmarkSliceInPool: putting a slice (not a pointer) into a pool boxes it into an interface,
// which allocates on every Put: the pool then costs an allocation instead of saving one.
func BenchmarkSliceInPool(b *testing.B) {
	b.Run("value-slice", func(b *testing.B) {
		p := sync.Pool{New: func() any { return make([]byte, 0, 1024) }}
		b.ReportAllocs()
		for b.Loop() {
			buf := p.Get().([]byte)
			buf = append(buf[:0], "hello"...)
			sink = buf
			p.Put(buf[:0]) //nolint:staticcheck // SA6002 is the point of this benchmark
		}
	})
	b.Run("pointer-to-slice", func(b *testing.B) {
		p := sync.Pool{New: func() any { s := make([]byte, 0, 1024); return &s }}
		b.ReportAllocs()
		for b.Loop() {
			bp := p.Get().(*[]byte)
			*bp = append((*bp)[:0], "hello"...)
			sink = *bp
			p.Put(bp)
		}
	})
}

// small is 16 bytes: two words, the size where the allocator is as fast as a pool.
type small struct{ words [2]int64 }

var smallSink *small

// BenchmarkSmallObject: for a 16-byte object the allocator is as fast as the pool.
func BenchmarkSmallObject(b *testing.B) {
	b.Run("alloc", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s := &small{words: [2]int64{int64(i)}}
			smallSink = s
		}
	})
	b.Run("pool", func(b *testing.B) {
		p := sync.Pool{New: func() any { return new(small) }}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s := p.Get().(*small)
			s.words[0] = int64(i)
			smallSink = s
			p.Put(s)
		}
	})
}

func TestRowsRender(t *testing.T) {
	var b strings.Builder
	var r Renderer
	_, err := r.WriteAlloc(&b, rows(200))
	require.NoError(t, err)
	assert.Greater(t, b.Len(), 3000, "a 200-row render is a few KiB")
}
