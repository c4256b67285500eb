// Package jobqueue accepts messages from producers and processes them on a fixed set of workers.
// It is where the queue-backlog fault lives:
//
//   - Defect: an unbounded in-memory queue. When producers are faster than workers, Enqueue keeps
//     accepting; the queue, the memory holding the messages and the time each waits grow without
//     bound, and nobody upstream is told to slow down.
//   - Fix: admission through a token bucket at the workers' capacity, then a bounded queue
//     (workerpool) that sheds what does not fit. Producers get ErrOverloaded at once and can back
//     off; what is accepted is served within a bounded wait.
package jobqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/ratelimit"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/workerpool"
)

// ErrOverloaded is returned by Enqueue when the message is shed.
var ErrOverloaded = errors.New("jobqueue: overloaded, retry later")

// Handler processes one message.
type Handler func(ctx context.Context, payload []byte) error

// Config sizes a Queue.
type Config struct {
	Workers int
	// Unbounded selects the defective queue (the fault). Otherwise QueueSize bounds the queue and
	// AdmitRate (messages per second, 0: no limiter) admits messages before it.
	Unbounded  bool
	QueueSize  int
	AdmitRate  float64
	AdmitBurst int // the limiter's burst (QueueSize when 0)
	// OnDone receives every accepted message's time from Enqueue to the end of processing.
	OnDone func(wait time.Duration, err error)
}

type job struct {
	payload  []byte
	enqueued time.Time
}

// Queue is safe for concurrent use.
type Queue struct {
	cfg     Config
	handle  Handler
	pool    *workerpool.Pool
	limiter *ratelimit.TokenBucket
	backlog *Unbounded
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	shed    atomic.Int64
}

// New starts the workers.
func New(cfg Config, h Handler) (*Queue, error) {
	if cfg.Workers < 1 {
		return nil, fmt.Errorf("jobqueue: workers must be at least 1, got %d", cfg.Workers)
	}
	if cfg.AdmitRate < 0 || cfg.AdmitBurst < 0 {
		return nil, fmt.Errorf("jobqueue: admit rate and burst must not be negative, got %v and %d", cfg.AdmitRate, cfg.AdmitBurst)
	}
	if cfg.AdmitBurst == 0 {
		cfg.AdmitBurst = max(1, cfg.QueueSize)
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{cfg: cfg, handle: h, ctx: ctx, cancel: cancel}
	if cfg.Unbounded {
		q.backlog = NewUnbounded()
		q.wg.Add(cfg.Workers)
		for range cfg.Workers {
			go q.drain()
		}
		return q, nil
	}
	// exercise:begin queue-backlog
	var err error
	if cfg.AdmitRate > 0 {
		if q.limiter, err = ratelimit.NewTokenBucket(cfg.AdmitRate, cfg.AdmitBurst); err != nil {
			cancel()
			return nil, fmt.Errorf("jobqueue: %w", err)
		}
	}
	if q.pool, err = workerpool.New(workerpool.Config{Workers: cfg.Workers, QueueSize: cfg.QueueSize}); err != nil {
		cancel()
		return nil, fmt.Errorf("jobqueue: %w", err)
	}
	return q, nil
	// exercise:stub
	// q.backlog = NewUnbounded()
	// q.wg.Add(cfg.Workers)
	// for range cfg.Workers {
	// 	go q.drain()
	// }
	// return q, nil
	// exercise:end
}

// Enqueue accepts payload for processing (the queue keeps its own copy) or sheds it with
// ErrOverloaded.
func (q *Queue) Enqueue(payload []byte) error {
	if q.backlog != nil {
		q.backlog.Push(payload)
		return nil
	}
	if q.limiter != nil && !q.limiter.Allow() {
		q.shed.Add(1)
		return ErrOverloaded
	}
	j := job{payload: append([]byte(nil), payload...), enqueued: time.Now()}
	if err := q.pool.TrySubmit(func(ctx context.Context) { q.process(ctx, j) }); err != nil {
		q.shed.Add(1)
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	}
	return nil
}

func (q *Queue) drain() {
	defer q.wg.Done()
	for {
		j, ok := q.backlog.Pop(q.ctx)
		if !ok {
			return
		}
		q.process(q.ctx, j)
	}
}

func (q *Queue) process(ctx context.Context, j job) {
	err := q.handle(ctx, j.payload)
	if q.cfg.OnDone != nil {
		q.cfg.OnDone(time.Since(j.enqueued), err)
	}
}

// Len is the number of messages waiting.
func (q *Queue) Len() int {
	if q.backlog != nil {
		return q.backlog.Len()
	}
	return q.pool.Stats().Queued
}

// OldestWait is how long the oldest waiting message has waited (0 when none is waiting).
func (q *Queue) OldestWait() time.Duration {
	if q.backlog != nil {
		return q.backlog.OldestWait()
	}
	return 0 // the bounded queue's wait is bounded by QueueSize / throughput
}

// Shed is the number of messages refused.
func (q *Queue) Shed() int64 { return q.shed.Load() }

// Close stops the workers; messages still queued are dropped.
func (q *Queue) Close() {
	q.cancel()
	if q.pool != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		_ = q.pool.Stop(ctx) // expired on purpose: cancel running tasks, drop the queue
		return
	}
	q.wg.Wait()
}

// Unbounded is a FIFO that never refuses a message: the defect. Its Push always succeeds, so a
// producer faster than the consumers grows it without limit.
type Unbounded struct {
	mu     sync.Mutex
	items  []job
	head   int
	notify chan struct{}
}

// NewUnbounded returns an empty queue.
func NewUnbounded() *Unbounded { return &Unbounded{notify: make(chan struct{}, 1)} }

// Push appends a copy of payload. Nothing bounds the queue.
func (u *Unbounded) Push(payload []byte) {
	j := job{payload: append([]byte(nil), payload...), enqueued: time.Now()}
	u.mu.Lock()
	u.items = append(u.items, j)
	u.mu.Unlock()
	select {
	case u.notify <- struct{}{}:
	default:
	}
}

// Pop takes the oldest message, waiting for one until ctx is done.
func (u *Unbounded) Pop(ctx context.Context) (job, bool) {
	for {
		u.mu.Lock()
		if u.head < len(u.items) {
			j := u.items[u.head]
			u.items[u.head] = job{}
			u.head++
			if u.head == len(u.items) {
				u.items, u.head = u.items[:0], 0
			}
			more := u.head < len(u.items)
			u.mu.Unlock()
			if more { // pass the wake-up on to another consumer
				select {
				case u.notify <- struct{}{}:
				default:
				}
			}
			return j, true
		}
		u.mu.Unlock()
		select {
		case <-u.notify:
		case <-ctx.Done():
			return job{}, false
		}
	}
}

// Len is the number of waiting messages.
func (u *Unbounded) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.items) - u.head
}

// OldestWait is the age of the oldest waiting message.
func (u *Unbounded) OldestWait() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.head == len(u.items) {
		return 0
	}
	return time.Since(u.items[u.head].enqueued)
}
