// Package workerpool runs tasks on a fixed set of workers fed by a bounded queue.
//
// The bound is the point: when producers outrun workers, a bounded queue pushes back (Submit
// blocks until there is room or the caller's context gives up) or sheds load (TrySubmit fails
// fast with ErrQueueFull), so queue length, memory and latency stay bounded. An unbounded queue
// hides the overload until memory runs out (see the queue-backlog scenario).
//
// A panicking task is recovered and reported; the worker lives on. Stop drains the queue, or, when
// its context ends first, cancels the context the tasks were given and drops what is still queued.
package workerpool

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	// ErrQueueFull is returned by TrySubmit when the queue is full: the task was shed.
	ErrQueueFull = errors.New("workerpool: queue full")
	// ErrStopped is returned for tasks submitted after Stop.
	ErrStopped = errors.New("workerpool: stopped")
)

// Task is one unit of work. ctx is cancelled when Stop gives up waiting.
type Task func(ctx context.Context)

// Config sizes a pool.
type Config struct {
	Workers   int
	QueueSize int                               // tasks waiting beyond the busy workers (0: hand-off only)
	OnPanic   func(recovered any, stack []byte) // called on the worker after a task panics
}

// Stats is a snapshot of the pool's counters.
type Stats struct {
	Queued, Busy                           int
	Submitted, Completed, Rejected, Panics uint64
	Dropped                                uint64 // queued tasks discarded by a Stop that timed out
}

// Pool is a fixed-size worker pool. Use New.
type Pool struct {
	cfg     Config
	tasks   chan Task
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.RWMutex // write-held by Stop so no Submit sends on a closed channel
	stopped bool

	busy                                            atomic.Int64
	submitted, completed, rejected, panics, dropped atomic.Uint64
}

// New starts cfg.Workers workers.
func New(cfg Config) (*Pool, error) {
	if cfg.Workers < 1 {
		return nil, fmt.Errorf("workerpool: workers must be at least 1, got %d", cfg.Workers)
	}
	if cfg.QueueSize < 0 {
		return nil, fmt.Errorf("workerpool: queue size must not be negative, got %d", cfg.QueueSize)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{cfg: cfg, tasks: make(chan Task, cfg.QueueSize), ctx: ctx, cancel: cancel}
	p.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go p.work()
	}
	return p, nil
}

func (p *Pool) work() {
	defer p.wg.Done()
	for t := range p.tasks {
		if p.ctx.Err() != nil { // Stop gave up: drop the rest of the queue
			p.dropped.Add(1)
			continue
		}
		p.run(t)
	}
}

func (p *Pool) run(t Task) {
	p.busy.Add(1)
	defer func() {
		p.busy.Add(-1)
		if r := recover(); r != nil {
			p.panics.Add(1)
			if p.cfg.OnPanic != nil {
				p.cfg.OnPanic(r, debug.Stack())
			}
			return
		}
		p.completed.Add(1)
	}()
	t(p.ctx)
}

// Submit queues t, waiting for room while the queue is full: backpressure. It returns ctx's error
// if ctx ends first, or ErrStopped after Stop.
func (p *Pool) Submit(ctx context.Context, t Task) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.stopped {
		return ErrStopped
	}
	select {
	case p.tasks <- t:
		p.submitted.Add(1)
		return nil
	default:
	}
	select {
	case p.tasks <- t:
		p.submitted.Add(1)
		return nil
	case <-ctx.Done():
		p.rejected.Add(1)
		return ctx.Err()
	}
}

// TrySubmit queues t only if there is room now; otherwise it sheds the task with ErrQueueFull.
func (p *Pool) TrySubmit(t Task) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.stopped {
		return ErrStopped
	}
	select {
	case p.tasks <- t:
		p.submitted.Add(1)
		return nil
	default:
		p.rejected.Add(1)
		return ErrQueueFull
	}
}

// Stop refuses new tasks and waits for the queue to drain. If ctx ends first, it cancels the
// tasks' context, drops the tasks still queued, waits for the running ones to return and reports
// ctx's error. Calling Stop again waits again.
func (p *Pool) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.tasks)
	}
	p.mu.Unlock()

	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("workerpool: stop: %w", ctx.Err())
	}
}

// Stats returns the current counters.
func (p *Pool) Stats() Stats {
	return Stats{
		Queued:    len(p.tasks),
		Busy:      int(p.busy.Load()),
		Submitted: p.submitted.Load(),
		Completed: p.completed.Load(),
		Rejected:  p.rejected.Load(),
		Panics:    p.panics.Load(),
		Dropped:   p.dropped.Load(),
	}
}

// Collectors returns Prometheus metrics for the pool, named prefix_queue_length,
// prefix_busy_workers, prefix_rejected_total, prefix_panics_total and prefix_completed_total.
func (p *Pool) Collectors(prefix string) []prometheus.Collector {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: prefix + "_" + name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: prefix + "_" + name, Help: help}, f)
	}
	return []prometheus.Collector{
		gauge("queue_length", "Tasks waiting in the queue.", func() float64 { return float64(len(p.tasks)) }),
		gauge("busy_workers", "Workers running a task.", func() float64 { return float64(p.busy.Load()) }),
		counter("rejected_total", "Tasks refused because the queue was full.", func() float64 { return float64(p.rejected.Load()) }),
		counter("panics_total", "Tasks that panicked.", func() float64 { return float64(p.panics.Load()) }),
		counter("completed_total", "Tasks that returned normally.", func() float64 { return float64(p.completed.Load()) }),
	}
}
