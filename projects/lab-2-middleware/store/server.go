package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrOverloaded is what a Server answers at once when its queue is full.
var ErrOverloaded = errors.New("store: server overloaded, queue full")

// Server is a remote dependency with finite capacity, modelled in process: a FIFO queue of
// bounded length in front of a fixed number of workers, each spending the service time on a
// request. Its latency is the queue's length times the service time divided by the workers, so it
// grows with load, and a full queue refuses new requests outright.
//
// One property makes it the dependency behind a metastable failure: a request whose caller has
// timed out is still served. A remote server cannot see that its caller gave up (it finds out, at
// best, when it writes the reply), so work queued for callers that have left keeps the queue long
// and the next callers time out too. Once the load drops below its capacity it drains and
// recovers by itself; it is not broken, only overloaded.
type Server struct {
	queue   chan serverJob
	service time.Duration

	stalledUntil atomic.Int64 // unix nanos; workers take nothing from the queue before it
	served       atomic.Int64
	wasted       atomic.Int64 // served after the caller had gone
	rejected     atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

type serverJob struct {
	ctx   context.Context // read only to count wasted work, never to skip it
	key   string
	reply chan string // buffered: a worker never blocks on a caller that has left
}

// NewServer starts a server with the given workers, queue capacity and service time per request.
// Close stops it.
func NewServer(workers, queue int, service time.Duration) (*Server, error) {
	switch {
	case workers < 1:
		return nil, fmt.Errorf("store: server workers must be at least 1, got %d", workers)
	case queue < 0:
		return nil, fmt.Errorf("store: server queue must not be negative, got %d", queue)
	case service < 0:
		return nil, fmt.Errorf("store: service time must not be negative, got %v", service)
	}
	s := &Server{queue: make(chan serverJob, queue), service: service, stop: make(chan struct{})}
	for range workers {
		s.wg.Add(1)
		go s.work()
	}
	return s, nil
}

// Get queues the request and waits for its answer or for ctx. A full queue answers ErrOverloaded
// at once.
func (s *Server) Get(ctx context.Context, key string) (string, error) {
	j := serverJob{ctx: ctx, key: key, reply: make(chan string, 1)}
	select {
	case s.queue <- j:
	default:
		s.rejected.Add(1)
		return "", ErrOverloaded
	}
	select {
	case v := <-j.reply:
		return v, nil
	case <-ctx.Done():
		return "", fmt.Errorf("store: waiting for the server: %w", ctx.Err())
	}
}

func (s *Server) work() {
	defer s.wg.Done()
	t := time.NewTimer(0)
	<-t.C
	wait := func(d time.Duration) bool {
		t.Reset(d)
		select {
		case <-t.C:
			return true
		case <-s.stop:
			t.Stop()
			return false
		}
	}
	for {
		select {
		case <-s.stop:
			return
		case j := <-s.queue:
			if d := time.Until(time.Unix(0, s.stalledUntil.Load())); d > 0 && !wait(d) {
				return
			}
			if s.service > 0 && !wait(s.service) {
				return
			}
			s.served.Add(1)
			if j.ctx.Err() != nil {
				s.wasted.Add(1)
			}
			j.reply <- "value-of-" + j.key
		}
	}
}

// Stall makes the workers take nothing from the queue for d: a brief outage (a failover, a long
// GC pause, a noisy neighbour). Requests keep queueing meanwhile.
func (s *Server) Stall(d time.Duration) { s.stalledUntil.Store(time.Now().Add(d).UnixNano()) }

// QueueLen is the number of requests waiting.
func (s *Server) QueueLen() int { return len(s.queue) }

// Served is the number of requests the workers finished.
func (s *Server) Served() int64 { return s.served.Load() }

// Wasted is the number of requests finished after their caller had stopped waiting.
func (s *Server) Wasted() int64 { return s.wasted.Load() }

// Rejected is the number of requests refused because the queue was full.
func (s *Server) Rejected() int64 { return s.rejected.Load() }

// Close stops the workers and waits for them; requests still queued are never answered.
func (s *Server) Close() {
	close(s.stop)
	s.wg.Wait()
}
