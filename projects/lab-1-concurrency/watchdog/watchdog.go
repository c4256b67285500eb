// Package watchdog reports a stall: work is pending but the progress counter has not moved for
// a while. It catches what the runtime's deadlock detector cannot, a partial deadlock in a
// program whose other goroutines keep running.
package watchdog

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Stall describes one detected stall.
type Stall struct {
	Since    time.Time // when progress last moved
	Progress int64     // the counter's value since then
	Pending  int64     // work waiting when the stall was reported
}

func (s Stall) String() string {
	return fmt.Sprintf("no progress for %v (counter stuck at %d, %d pending)", time.Since(s.Since).Round(time.Millisecond),
		s.Progress, s.Pending)
}

// Config says what to watch.
type Config struct {
	Progress func() int64 // a counter that grows while work gets done
	Pending  func() int64 // work under way; a counter that does not move with nothing pending is idle, not stuck
	After    time.Duration
	Every    time.Duration // how often to look (After/10 when zero)
	OnStall  func(Stall)   // called once per stall, on the watchdog's goroutine
}

// Watchdog watches one counter.
type Watchdog struct {
	cfg Config

	mu      sync.Mutex
	stalled bool
	since   time.Time
	last    int64
	stalls  int
	longest time.Duration // the longest stretch without progress that became a stall
}

// New checks cfg.
func New(cfg Config) (*Watchdog, error) {
	if cfg.Progress == nil || cfg.Pending == nil || cfg.After <= 0 {
		return nil, fmt.Errorf("watchdog: want Progress, Pending and After > 0, got After=%v", cfg.After)
	}
	if cfg.Every <= 0 {
		cfg.Every = max(cfg.After/10, time.Millisecond)
	}
	return &Watchdog{cfg: cfg}, nil
}

// Run watches until ctx is done.
func (w *Watchdog) Run(ctx context.Context) {
	w.mu.Lock()
	w.since, w.last = time.Now(), w.cfg.Progress()
	w.mu.Unlock()
	t := time.NewTicker(w.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.mu.Lock()
			if w.stalled {
				w.longest = max(w.longest, time.Since(w.since))
			}
			w.mu.Unlock()
			return
		case now := <-t.C:
			if s, ok := w.check(now); ok && w.cfg.OnStall != nil {
				w.cfg.OnStall(s)
			}
		}
	}
}

func (w *Watchdog) check(now time.Time) (Stall, bool) {
	p, pending := w.cfg.Progress(), w.cfg.Pending()
	w.mu.Lock()
	defer w.mu.Unlock()
	if p != w.last || pending == 0 {
		if w.stalled {
			w.longest = max(w.longest, now.Sub(w.since))
		}
		w.last, w.since, w.stalled = p, now, false
		return Stall{}, false
	}
	if !w.stalled && now.Sub(w.since) >= w.cfg.After {
		w.stalled = true
		w.stalls++
		return Stall{Since: w.since, Progress: p, Pending: pending}, true
	}
	return Stall{}, false
}

// Stalled reports whether a stall is in progress.
func (w *Watchdog) Stalled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stalled
}

// Stalls is how many stalls were reported, and the longest of them, measured from the last
// progress (so it includes the After grace); a stall still under way counts up to the moment
// Run returned.
func (w *Watchdog) Stalls() (int, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stalls, w.longest
}
