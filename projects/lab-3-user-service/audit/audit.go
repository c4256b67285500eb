// Package audit appends one line per security-relevant request to an audit file shared with
// other processes (a log shipper, a rotation job), which is why every append takes an exclusive
// flock(2) on the file first.
//
// flock is a blocking system call. While a goroutine sits in it, the Go runtime cannot run other
// goroutines on that OS thread, so it hands the P to a new thread: one blocked flock pins one OS
// thread. The thread-exhaustion fault starts one goroutine per request (unbounded); when the lock
// holder is slow, every request adds a thread until the process hits its thread limit
// (debug.SetMaxThreads, 10000 by default) and crashes. The fixed path is a bounded pool: a fixed
// number of writers pin at most that many threads, and a bounded queue sheds records (counted)
// instead of threads.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Event is one audit record.
type Event struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	UserID    int64     `json:"user_id,omitempty"`
	Action    string    `json:"action"`
	Status    int       `json:"status"`
}

// Config tunes the writer.
type Config struct {
	Path      string
	Unbounded bool // the thread-exhaustion fault: one goroutine per record
	Workers   int  // fixed path: writers, hence the most threads audit can pin
	Queue     int  // fixed path: records waiting for a writer; beyond it they are dropped
}

// Writer appends events to the audit file.
type Writer struct {
	cfg     Config
	mu      sync.RWMutex // held shared by Record, exclusively by Close: no send after close
	closed  bool
	queue   chan Event
	wg      sync.WaitGroup
	written atomic.Int64
	dropped atomic.Int64
	failed  atomic.Int64
	blocked atomic.Int64
}

// New starts a Writer. Close it to stop the workers.
func New(cfg Config) *Writer {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
	w := &Writer{cfg: cfg}
	if !cfg.Unbounded {
		w.queue = make(chan Event, cfg.Queue)
		for i := 0; i < cfg.Workers; i++ {
			w.wg.Add(1)
			go w.worker()
		}
	}
	return w
}

// Record queues ev for appending. It never blocks the request.
func (w *Writer) Record(_ context.Context, ev Event) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return
	}
	if w.cfg.Unbounded {
		// The defect: a goroutine per request, each about to block in flock and pin a thread.
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.append(ev)
		}()
		return
	}
	// exercise:begin thread-exhaustion
	select {
	case w.queue <- ev:
	default:
		w.dropped.Add(1)
	}
	// exercise:stub
	// w.wg.Add(1)
	// go func() {
	// 	defer w.wg.Done()
	// 	w.append(ev)
	// }()
	// exercise:end
}

func (w *Writer) worker() {
	defer w.wg.Done()
	for ev := range w.queue {
		w.append(ev)
	}
}

// append writes one line under an exclusive flock on the audit file.
func (w *Writer) append(ev Event) {
	line, err := json.Marshal(ev)
	if err != nil {
		w.failed.Add(1)
		return
	}
	f, err := os.OpenFile(w.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.failed.Add(1)
		return
	}
	defer f.Close()
	w.blocked.Add(1)
	err = flockExclusive(f)
	w.blocked.Add(-1)
	if err != nil {
		w.failed.Add(1)
		return
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	if _, err := f.Write(append(line, '\n')); err != nil {
		w.failed.Add(1)
		return
	}
	w.written.Add(1)
}

// flockExclusive is the blocking system call that pins the calling goroutine's OS thread.
func flockExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// Stats are the writer's counters.
type Stats struct {
	Written, Dropped, Failed, Waiting int64
}

// Stats returns the counters; Waiting is the number of appends blocked on the lock right now.
func (w *Writer) Stats() Stats {
	return Stats{Written: w.written.Load(), Dropped: w.dropped.Load(), Failed: w.failed.Load(), Waiting: w.blocked.Load()}
}

// Close stops accepting records and waits for queued ones to be written (or ctx to end).
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	if w.queue != nil {
		close(w.queue)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit close: %w", ctx.Err())
	}
}

// Lock takes the audit file's lock the way an outside process (log rotation, a shipper) does,
// and returns the release. The lab uses it to play the slow lock holder.
func Lock(path string) (release func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit file: %w", err)
	}
	if err := flockExclusive(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock audit file: %w", err)
	}
	return func() error {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return f.Close()
	}, nil
}
