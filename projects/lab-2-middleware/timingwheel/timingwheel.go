// Package timingwheel is a delay queue on a hierarchical timing wheel: O(1) add and cancel,
// millisecond ticks (or any tick), overflow wheels for long delays, with a time.AfterFunc-like API
// and a channel API.
//
// Why not time.AfterFunc? The runtime keeps timers in a heap per P: O(log n) to add and to stop.
// With a million pending timeouts (one per connection or request, most cancelled before they
// fire) the wheel's constant-time slots win, at the price of tick granularity: a timer fires on the
// first tick at or after its deadline, never early, up to one tick (plus scheduling) late.
//
// Callbacks run on the wheel's own goroutine, one after another, so they must be short; hand long
// work to a worker pool. Deadlines are measured from the wheel's start on the monotonic clock, so
// the wheel does not drift however long it runs.
package timingwheel

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStopped is returned when scheduling on a stopped wheel.
var ErrStopped = errors.New("timingwheel: stopped")

// Timer is one scheduled callback. Stop cancels it.
type Timer struct {
	expire     int64
	f          func()
	c          chan time.Time
	prev, next *Timer
	level      int8
	w          *Wheel
}

// C is the channel of a timer made by NewTimer or After; nil for AfterFunc timers.
func (t *Timer) C() <-chan time.Time { return t.c }

// Stop cancels the timer. It returns true if that prevented the timer from firing, false if it had
// already fired or been stopped. O(1).
func (t *Timer) Stop() bool {
	w := t.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.prev == nil {
		return false
	}
	w.core.remove(t)
	return true
}

// Wheel is a running timing wheel. Create it with New, release it with Stop.
type Wheel struct {
	tick  time.Duration
	start time.Time

	mu      sync.Mutex
	core    *wheel
	stopped bool

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

// New starts a wheel with the given tick (1ms is typical).
func New(tick time.Duration) (*Wheel, error) {
	if tick <= 0 {
		return nil, fmt.Errorf("timingwheel: tick must be positive, got %v", tick)
	}
	w := &Wheel{
		tick: tick, start: time.Now(), core: newWheel(0),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// ticksFor is the first tick at or after now+d, so no timer fires early.
func (w *Wheel) ticksFor(d time.Duration) int64 {
	at := time.Since(w.start) + d
	return int64((at + w.tick - 1) / w.tick)
}

func (w *Wheel) schedule(t *Timer, d time.Duration) (*Timer, error) {
	t.w = w
	t.expire = w.ticksFor(d)
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return nil, ErrStopped
	}
	wasEmpty := w.core.count == 0
	w.core.add(t)
	w.mu.Unlock()
	if wasEmpty {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return t, nil
}

// AfterFunc calls f on the wheel's goroutine once d has passed. It returns ErrStopped after Stop.
func (w *Wheel) AfterFunc(d time.Duration, f func()) (*Timer, error) {
	return w.schedule(&Timer{f: f}, d)
}

// NewTimer returns a timer whose C receives the time once d has passed.
func (w *Wheel) NewTimer(d time.Duration) (*Timer, error) {
	return w.schedule(&Timer{c: make(chan time.Time, 1)}, d)
}

// After is NewTimer(d).C(); on a stopped wheel it returns a channel that never fires.
func (w *Wheel) After(d time.Duration) <-chan time.Time {
	t, err := w.NewTimer(d)
	if err != nil {
		return nil
	}
	return t.c
}

// Len is the number of pending timers.
func (w *Wheel) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.core.count
}

// Stop stops the wheel's goroutine and waits for it. Pending timers never fire.
func (w *Wheel) Stop() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		<-w.done
		return
	}
	w.stopped = true
	w.mu.Unlock()
	close(w.quit)
	<-w.done
}

func (w *Wheel) run() {
	defer close(w.done)
	ticker := time.NewTicker(w.tick)
	defer ticker.Stop()
	var due []*Timer
	collect := func(t *Timer) { due = append(due, t) }
	for {
		w.mu.Lock()
		idle := w.core.count == 0
		w.mu.Unlock()
		if idle {
			select { // nothing pending: sleep until a timer is added
			case <-w.wake:
			case <-w.quit:
				return
			}
		} else {
			select {
			case <-ticker.C:
			case <-w.wake:
			case <-w.quit:
				return
			}
		}
		now := int64(time.Since(w.start) / w.tick) // from the clock, not a tick count: no drift
		w.mu.Lock()
		w.core.advance(now, collect)
		w.mu.Unlock()
		fired := time.Now()
		for i, t := range due {
			if t.c != nil {
				select {
				case t.c <- fired:
				default:
				}
			} else {
				t.f()
			}
			due[i] = nil
		}
		due = due[:0]
	}
}
