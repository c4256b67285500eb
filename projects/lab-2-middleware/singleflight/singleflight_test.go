package singleflight

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	xsf "golang.org/x/sync/singleflight"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDo(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func() (int, error)
		want    int
		wantErr error
	}{
		{"value", func() (int, error) { return 7, nil }, 7, nil},
		{"error", func() (int, error) { return 0, boom }, 0, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Group[string, int]
			v, err, shared := g.Do("k", tt.fn)
			assert.Equal(t, tt.want, v)
			assert.ErrorIs(t, err, tt.wantErr)
			assert.False(t, shared)
		})
	}
}

func TestPanicBecomesError(t *testing.T) {
	var g Group[string, int]
	_, err, _ := g.Do("k", func() (int, error) { panic("bad loader") })
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "bad loader", pe.Value)
	// The key is released: the next call runs.
	v, err, _ := g.Do("k", func() (int, error) { return 1, nil })
	assert.NoError(t, err)
	assert.Equal(t, 1, v)
}

func TestCoalesces(t *testing.T) {
	var g Group[string, int]
	var calls atomic.Int32
	release := make(chan struct{})
	const n = 50
	var wg sync.WaitGroup
	var sharedCount atomic.Int32
	started := make(chan struct{})
	go func() {
		// Wait until the first call is inside fn, so every other caller joins it.
		<-started
		for calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				close(started)
			}
			v, err, shared := g.Do("hot", func() (int, error) {
				calls.Add(1)
				<-release
				return 42, nil
			})
			assert.NoError(t, err)
			assert.Equal(t, 42, v)
			if shared {
				sharedCount.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Less(t, calls.Load(), int32(n), "callers were coalesced")
	assert.Positive(t, sharedCount.Load())
}

func TestDoChanAndForget(t *testing.T) {
	var g Group[int, string]
	block := make(chan struct{})
	ch1 := g.DoChan(1, func() (string, error) { <-block; return "first", nil })
	ch2 := g.DoChan(1, func() (string, error) { return "never", nil })
	g.Forget(1)
	v, err, _ := g.Do(1, func() (string, error) { return "fresh", nil })
	require.NoError(t, err)
	assert.Equal(t, "fresh", v)
	close(block)
	r1, r2 := <-ch1, <-ch2
	assert.Equal(t, "first", r1.Val)
	assert.Equal(t, "first", r2.Val)
	assert.True(t, r1.Shared)
}

// BenchmarkDo runs ours and x/sync side by side: a hot key fetched by parallel callers whose fn is
// trivial, so the benchmark measures the coordination cost.
func BenchmarkDo(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) {
		var g Group[string, int]
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _, _ = g.Do("hot", func() (int, error) { return 1, nil })
			}
		})
	})
	b.Run("impl=x-sync", func(b *testing.B) {
		var g xsf.Group
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _, _ = g.Do("hot", func() (any, error) { return 1, nil })
			}
		})
	})
}
