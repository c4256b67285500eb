// Package mpmc is a lock-free multi-producer multi-consumer FIFO: the Michael–Scott queue
// (PODC 1996), with the two queues it is measured against, a buffered channel and a
// mutex-guarded ring.
//
// Go's garbage collector removes the classic ABA hazard of this algorithm: a node cannot be
// freed and reused at the same address while any goroutine still holds a pointer to it, so the
// queue needs neither tagged pointers nor hazard pointers.
package mpmc

import (
	"sync"
	"sync/atomic"
)

// Queue is what the benchmarks and the stress tests drive.
type Queue[T any] interface {
	// Enqueue adds v at the tail. It reports false only when a bounded queue is full.
	Enqueue(v T) bool
	// Dequeue removes the head, or reports false when the queue is empty. It never blocks.
	Dequeue() (T, bool)
}

type node[T any] struct {
	v    T
	next atomic.Pointer[node[T]]
}

// MSQueue is an unbounded lock-free FIFO. The zero value is not usable; call NewMSQueue.
type MSQueue[T any] struct {
	head atomic.Pointer[node[T]]
	_    [56]byte // keep head and tail on separate cache lines: producers and consumers do not contend
	tail atomic.Pointer[node[T]]
}

// NewMSQueue returns an empty queue, which holds one dummy node.
func NewMSQueue[T any]() *MSQueue[T] {
	q := &MSQueue[T]{}
	dummy := &node[T]{}
	q.head.Store(dummy)
	q.tail.Store(dummy)
	return q
}

// Enqueue links a new node after the last one, then swings tail to it. Any goroutine that sees
// tail lagging (tail.next != nil) helps by swinging it, so no goroutine waits for another.
func (q *MSQueue[T]) Enqueue(v T) bool {
	n := &node[T]{v: v}
	for {
		tail := q.tail.Load()
		next := tail.next.Load()
		if tail != q.tail.Load() { // tail moved while we read next: retry with a fresh view
			continue
		}
		if next != nil { // tail is lagging: help it along
			q.tail.CompareAndSwap(tail, next)
			continue
		}
		if tail.next.CompareAndSwap(nil, n) { // the linearization point of Enqueue
			q.tail.CompareAndSwap(tail, n) // may fail: someone helped already
			return true
		}
	}
}

// Dequeue swings head to the first real node and returns its value; that node becomes the new
// dummy. Its value is left in place: another dequeuer that lost the race may still be reading
// it, and clearing it would be a data race, so it is released at the next Dequeue.
func (q *MSQueue[T]) Dequeue() (T, bool) {
	for {
		head := q.head.Load()
		tail := q.tail.Load()
		next := head.next.Load()
		if head != q.head.Load() {
			continue
		}
		if next == nil { // the linearization point of an empty Dequeue
			var zero T
			return zero, false
		}
		if head == tail { // non-empty but tail lags behind: help, then retry
			q.tail.CompareAndSwap(tail, next)
			continue
		}
		v := next.v
		if q.head.CompareAndSwap(head, next) { // the linearization point of Dequeue
			return v, true
		}
	}
}

// ChanQueue is a buffered channel used as a bounded queue, with non-blocking operations.
type ChanQueue[T any] struct{ ch chan T }

// NewChanQueue returns a queue that holds at most capacity values.
func NewChanQueue[T any](capacity int) *ChanQueue[T] {
	return &ChanQueue[T]{ch: make(chan T, capacity)}
}

func (q *ChanQueue[T]) Enqueue(v T) bool {
	select {
	case q.ch <- v:
		return true
	default:
		return false
	}
}

func (q *ChanQueue[T]) Dequeue() (T, bool) {
	select {
	case v := <-q.ch:
		return v, true
	default:
		var zero T
		return zero, false
	}
}

// MutexQueue is a growable ring buffer under one mutex.
type MutexQueue[T any] struct {
	mu         sync.Mutex
	buf        []T
	head, size int
}

// NewMutexQueue returns an empty unbounded queue.
func NewMutexQueue[T any]() *MutexQueue[T] { return &MutexQueue[T]{buf: make([]T, 16)} }

func (q *MutexQueue[T]) Enqueue(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.size == len(q.buf) {
		grown := make([]T, 2*len(q.buf))
		n := copy(grown, q.buf[q.head:])
		copy(grown[n:], q.buf[:q.head])
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = v
	q.size++
	return true
}

func (q *MutexQueue[T]) Dequeue() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if q.size == 0 {
		return zero, false
	}
	v := q.buf[q.head]
	q.buf[q.head] = zero // let the GC have it
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return v, true
}
