package workerpool

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Importing ants starts its package-level default pool (two housekeeping goroutines) at init;
// they are ants', not ours, so they are the only ones ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Workers: 0}, {Workers: 1, QueueSize: -1}} {
		_, err := New(cfg)
		assert.Error(t, err)
	}
}

func TestRunsEveryTask(t *testing.T) {
	tests := []struct{ workers, queue, tasks int }{{1, 0, 10}, {4, 16, 1000}, {8, 1, 500}}
	for _, tt := range tests {
		p, err := New(Config{Workers: tt.workers, QueueSize: tt.queue})
		require.NoError(t, err)
		var n atomic.Int64
		for range tt.tasks {
			require.NoError(t, p.Submit(context.Background(), func(context.Context) { n.Add(1) }))
		}
		require.NoError(t, p.Stop(context.Background()))
		assert.Equal(t, int64(tt.tasks), n.Load())
		assert.Equal(t, uint64(tt.tasks), p.Stats().Completed)
	}
}

func TestBackpressureAndShedding(t *testing.T) {
	p, _ := New(Config{Workers: 1, QueueSize: 2})
	release := make(chan struct{})
	started := make(chan struct{})
	require.NoError(t, p.TrySubmit(func(context.Context) { close(started); <-release }))
	<-started
	require.NoError(t, p.TrySubmit(func(context.Context) {}))
	require.NoError(t, p.TrySubmit(func(context.Context) {}))
	assert.ErrorIs(t, p.TrySubmit(func(context.Context) {}), ErrQueueFull, "queue of 2 is full")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Submit(ctx, func(context.Context) {}), context.DeadlineExceeded, "Submit waits, then gives up")
	s := p.Stats()
	assert.Equal(t, 2, s.Queued)
	assert.Equal(t, 1, s.Busy)
	assert.Equal(t, uint64(2), s.Rejected)
	close(release)
	require.NoError(t, p.Stop(context.Background()))
	assert.ErrorIs(t, p.TrySubmit(func(context.Context) {}), ErrStopped)
	assert.ErrorIs(t, p.Submit(context.Background(), func(context.Context) {}), ErrStopped)
}

func TestPanicIsRecovered(t *testing.T) {
	var got any
	var mu sync.Mutex
	p, _ := New(Config{Workers: 1, QueueSize: 4, OnPanic: func(r any, stack []byte) {
		mu.Lock()
		got = r
		mu.Unlock()
		assert.Contains(t, string(stack), "workerpool")
	}})
	require.NoError(t, p.Submit(context.Background(), func(context.Context) { panic("boom") }))
	var ran atomic.Bool
	require.NoError(t, p.Submit(context.Background(), func(context.Context) { ran.Store(true) }))
	require.NoError(t, p.Stop(context.Background()))
	mu.Lock()
	assert.Equal(t, "boom", got)
	mu.Unlock()
	assert.True(t, ran.Load(), "the worker survived the panic")
	assert.Equal(t, uint64(1), p.Stats().Panics)
}

func TestStopTimeoutCancelsAndDrops(t *testing.T) {
	p, _ := New(Config{Workers: 1, QueueSize: 10})
	started := make(chan struct{})
	require.NoError(t, p.Submit(context.Background(), func(ctx context.Context) { close(started); <-ctx.Done() }))
	<-started
	for range 5 {
		require.NoError(t, p.Submit(context.Background(), func(context.Context) { t.Error("dropped task ran") }))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Stop(ctx), context.DeadlineExceeded)
	assert.Equal(t, uint64(5), p.Stats().Dropped)
}

func TestCollectors(t *testing.T) {
	p, _ := New(Config{Workers: 1})
	reg := prometheus.NewRegistry()
	for _, c := range p.Collectors("lab2_pool") {
		require.NoError(t, reg.Register(c))
	}
	require.NoError(t, p.Stop(context.Background()))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := []string{}
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	assert.ElementsMatch(t, []string{"lab2_pool_queue_length", "lab2_pool_busy_workers", "lab2_pool_rejected_total", "lab2_pool_panics_total", "lab2_pool_completed_total"}, names)
}

// BenchmarkTinyTasks runs 1M tiny tasks per op through our pool and through ants with the same
// number of workers, and through ants unbounded (one goroutine per concurrent task, its design
// point). ns/op is the time for the whole million; tasks/s is the throughput.
func BenchmarkTinyTasks(b *testing.B) {
	const tasks = 1_000_000
	b.Run("impl=ants/workers=unbounded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, _ := ants.NewPool(-1)
			var wg sync.WaitGroup
			wg.Add(tasks)
			task := func() { wg.Done() }
			for range tasks {
				_ = p.Submit(task)
			}
			wg.Wait()
			_ = p.ReleaseTimeout(5 * time.Second)
		}
		b.ReportMetric(float64(tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	})
	for _, workers := range []int{8, 64} {
		b.Run("impl=ours/workers="+itoa(workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, _ := New(Config{Workers: workers, QueueSize: 1024})
				var wg sync.WaitGroup
				wg.Add(tasks)
				task := func(context.Context) { wg.Done() }
				for range tasks {
					_ = p.Submit(context.Background(), task)
				}
				wg.Wait()
				_ = p.Stop(context.Background())
			}
			b.ReportMetric(float64(tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
		b.Run("impl=ants/workers="+itoa(workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, _ := ants.NewPool(workers)
				var wg sync.WaitGroup
				wg.Add(tasks)
				task := func() { wg.Done() }
				for range tasks {
					_ = p.Submit(task)
				}
				wg.Wait()
				_ = p.ReleaseTimeout(5 * time.Second)
			}
			b.ReportMetric(float64(tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
