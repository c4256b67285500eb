package ratelimit

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// SlidingWindow admits at most limit events in any window-long interval, estimated as
// prev*(1-elapsed/window) + curr: the previous fixed window's count weighted by its overlap with the
// sliding window, plus the current one's. Two counters replace a log of timestamps; the estimate
// assumes the previous window's events were spread evenly.
type SlidingWindow struct {
	mu     sync.Mutex
	limit  float64
	window int64
	start  int64 // start of the current fixed window, nanoseconds since base
	prev   float64
	curr   float64
	base   time.Time
	now    func() time.Time
}

// NewSlidingWindow allows limit events per window.
func NewSlidingWindow(limit int, window time.Duration, opts ...Option) (*SlidingWindow, error) {
	if limit < 1 {
		return nil, fmt.Errorf("ratelimit: limit must be at least 1 event per window, got %d", limit)
	}
	if window <= 0 {
		return nil, fmt.Errorf("ratelimit: window must be a positive duration, got %v", window)
	}
	now := clockFrom(opts)
	return &SlidingWindow{limit: float64(limit), window: int64(window), base: now(), now: now}, nil
}

// roll moves the fixed windows forward to t. Caller holds mu.
func (s *SlidingWindow) roll(t int64) {
	switch n := (t - s.start) / s.window; {
	case n == 1:
		s.prev, s.curr = s.curr, 0
		s.start += s.window
	case n > 1:
		s.prev, s.curr = 0, 0
		s.start += n * s.window
	}
}

// Allow counts one event if it fits.
func (s *SlidingWindow) Allow() bool {
	ok, _ := s.Take()
	return ok
}

// Take counts one event if it fits; otherwise it returns how long until it would.
func (s *SlidingWindow) Take() (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := int64(s.now().Sub(s.base))
	s.roll(t)
	elapsed := float64(t-s.start) / float64(s.window)
	if s.prev*(1-elapsed)+s.curr+1 <= s.limit {
		s.curr++
		return true, 0
	}
	// Refused. Either the current window alone is full (wait for it to become "prev" and decay),
	// or prev's weight must fall: solve prev*(1-x)+curr+1 = limit for x.
	if s.curr+1 > s.limit || s.prev == 0 {
		return false, time.Duration(s.start + s.window - t)
	}
	x := 1 - (s.limit-s.curr-1)/s.prev
	wait := time.Duration(math.Ceil((x - elapsed) * float64(s.window)))
	if wait <= 0 {
		wait = 1
	}
	return false, wait
}
