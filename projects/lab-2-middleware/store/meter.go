package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Meter wraps a Store and counts its calls. Safe for concurrent use.
type Meter struct {
	next    Store
	start   time.Time
	bucket  time.Duration
	calls   atomic.Int64
	errors  atomic.Int64
	pending atomic.Int64 // calls waiting for or holding a connection

	mu      sync.Mutex
	perKey  map[string]int64
	buckets []int64
}

// NewMeter counts calls to next, in buckets of width bucket from now.
func NewMeter(next Store, bucket time.Duration) *Meter {
	return &Meter{next: next, start: time.Now(), bucket: bucket, perKey: map[string]int64{}}
}

// Get counts the call and forwards it.
func (m *Meter) Get(ctx context.Context, key string) (string, error) {
	m.calls.Add(1)
	i := int(time.Since(m.start) / m.bucket)
	m.mu.Lock()
	m.perKey[key]++
	for len(m.buckets) <= i {
		m.buckets = append(m.buckets, 0)
	}
	m.buckets[i]++
	m.mu.Unlock()
	m.pending.Add(1)
	v, err := m.next.Get(ctx, key)
	m.pending.Add(-1)
	if err != nil {
		m.errors.Add(1)
	}
	return v, err
}

// Calls is the number of calls so far.
func (m *Meter) Calls() int64 { return m.calls.Load() }

// Errors is the number of calls that failed.
func (m *Meter) Errors() int64 { return m.errors.Load() }

// Pending is the number of calls in the store right now, queued or running.
func (m *Meter) Pending() int64 { return m.pending.Load() }

// KeyCalls is the number of calls for key.
func (m *Meter) KeyCalls(key string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.perKey[key]
}

// Reset restarts the counts and the bucket clock.
func (m *Meter) Reset() {
	m.mu.Lock()
	m.start = time.Now()
	m.perKey = map[string]int64{}
	m.buckets = nil
	m.mu.Unlock()
	m.calls.Store(0)
	m.errors.Store(0)
}

// QPS returns the peak and the mean calls per second over the buckets between Reset (or NewMeter)
// and until, counting empty buckets.
func (m *Meter) QPS(until time.Time) (peak, mean float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := int(until.Sub(m.start) / m.bucket)
	if n < 1 {
		n = 1
	}
	var total, top int64
	for i, c := range m.buckets {
		if i >= n {
			break
		}
		total += c
		top = max(top, c)
	}
	perSec := float64(time.Second) / float64(m.bucket)
	return float64(top) * perSec, float64(total) / float64(n) * perSec
}
