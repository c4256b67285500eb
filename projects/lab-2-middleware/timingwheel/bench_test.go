package timingwheel

import (
	"container/heap"
	"sync"
	"testing"
	"time"
)

// heapQueue is the textbook alternative the wheel is measured against: a min-heap of deadlines
// (container/heap) under a mutex, one driver goroutine sleeping until the earliest. Add and Stop
// are O(log n). Callbacks run on the driver, as in the wheel.
type heapQueue struct {
	mu    sync.Mutex
	h     timerHeap
	start time.Time
	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
}

type heapTimer struct {
	at    time.Duration // since start
	f     func()
	index int
}

type timerHeap []*heapTimer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *timerHeap) Push(x any)        { t := x.(*heapTimer); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

func newHeapQueue() *heapQueue {
	q := &heapQueue{start: time.Now(), wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *heapQueue) AfterFunc(d time.Duration, f func()) *heapTimer {
	t := &heapTimer{at: time.Since(q.start) + d, f: f}
	q.mu.Lock()
	heap.Push(&q.h, t)
	first := t.index == 0
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return t
}

func (q *heapQueue) Stop(t *heapTimer) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&q.h, t.index)
	return true
}

func (q *heapQueue) Close() { close(q.quit); <-q.done }

func (q *heapQueue) run() {
	defer close(q.done)
	sleep := time.NewTimer(time.Hour)
	defer sleep.Stop()
	for {
		var due []*heapTimer
		q.mu.Lock()
		now := time.Since(q.start)
		for len(q.h) > 0 && q.h[0].at <= now {
			due = append(due, heap.Pop(&q.h).(*heapTimer))
		}
		next := time.Hour
		if len(q.h) > 0 {
			next = q.h[0].at - now
		}
		q.mu.Unlock()
		for _, t := range due {
			t.f()
		}
		sleep.Reset(next)
		select {
		case <-sleep.C:
		case <-q.wake:
		case <-q.quit:
			return
		}
	}
}

const million = 1_000_000

// delay spreads n timers over [base, base+span) deterministically.
func delay(i int, base, span time.Duration) time.Duration {
	return base + time.Duration(uint64(i)*2654435761%uint64(span))
}

// BenchmarkTimers1M measures one million timers per op, in three implementations side by side:
//   - op=start-stop: schedule 1M timeouts 1-11s out and cancel them all (the common case: most
//     timeouts never fire);
//   - op=fire: schedule 1M timers 1-100ms out and wait until every one has fired.
func BenchmarkTimers1M(b *testing.B) {
	b.Run("op=start-stop/impl=wheel", func(b *testing.B) {
		b.ReportAllocs()
		w, _ := New(time.Millisecond)
		defer w.Stop()
		timers := make([]*Timer, million)
		for b.Loop() {
			for i := range timers {
				timers[i], _ = w.AfterFunc(delay(i, time.Second, 10*time.Second), func() {})
			}
			for _, t := range timers {
				t.Stop()
			}
		}
	})
	b.Run("op=start-stop/impl=time.AfterFunc", func(b *testing.B) {
		b.ReportAllocs()
		timers := make([]*time.Timer, million)
		for b.Loop() {
			for i := range timers {
				timers[i] = time.AfterFunc(delay(i, time.Second, 10*time.Second), func() {})
			}
			for _, t := range timers {
				t.Stop()
			}
		}
	})
	b.Run("op=start-stop/impl=heap", func(b *testing.B) {
		b.ReportAllocs()
		q := newHeapQueue()
		defer q.Close()
		timers := make([]*heapTimer, million)
		for b.Loop() {
			for i := range timers {
				timers[i] = q.AfterFunc(delay(i, time.Second, 10*time.Second), func() {})
			}
			for _, t := range timers {
				q.Stop(t)
			}
		}
	})

	b.Run("op=fire/impl=wheel", func(b *testing.B) {
		b.ReportAllocs()
		w, _ := New(time.Millisecond)
		defer w.Stop()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(million)
			done := wg.Done
			for i := range million {
				_, _ = w.AfterFunc(delay(i, time.Millisecond, 99*time.Millisecond), done)
			}
			wg.Wait()
		}
	})
	b.Run("op=fire/impl=time.AfterFunc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(million)
			done := wg.Done
			for i := range million {
				time.AfterFunc(delay(i, time.Millisecond, 99*time.Millisecond), done)
			}
			wg.Wait()
		}
	})
	b.Run("op=fire/impl=heap", func(b *testing.B) {
		b.ReportAllocs()
		q := newHeapQueue()
		defer q.Close()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(million)
			done := wg.Done
			for i := range million {
				q.AfterFunc(delay(i, time.Millisecond, 99*time.Millisecond), done)
			}
			wg.Wait()
		}
	})
}

// BenchmarkAddStop is the per-timer cost with a standing population of 100k pending timers.
func BenchmarkAddStop(b *testing.B) {
	const standing = 100_000
	b.Run("impl=wheel", func(b *testing.B) {
		w, _ := New(time.Millisecond)
		defer w.Stop()
		for i := range standing {
			_, _ = w.AfterFunc(delay(i, time.Minute, time.Minute), func() {})
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			t, _ := w.AfterFunc(delay(i, time.Second, 10*time.Second), func() {})
			t.Stop()
			i++
		}
	})
	b.Run("impl=time.AfterFunc", func(b *testing.B) {
		keep := make([]*time.Timer, standing)
		for i := range keep {
			keep[i] = time.AfterFunc(delay(i, time.Minute, time.Minute), func() {})
		}
		defer func() {
			for _, t := range keep {
				t.Stop()
			}
		}()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			t := time.AfterFunc(delay(i, time.Second, 10*time.Second), func() {})
			t.Stop()
			i++
		}
	})
	b.Run("impl=heap", func(b *testing.B) {
		q := newHeapQueue()
		defer q.Close()
		for i := range standing {
			q.AfterFunc(delay(i, time.Minute, time.Minute), func() {})
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q.Stop(q.AfterFunc(delay(i, time.Second, 10*time.Second), func() {}))
			i++
		}
	})
}
