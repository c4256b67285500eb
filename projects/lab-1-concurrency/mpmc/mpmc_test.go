package mpmc

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var impls = []struct {
	name string
	new  func() Queue[int]
}{
	{"ms-queue", func() Queue[int] { return NewMSQueue[int]() }},
	{"channel", func() Queue[int] { return NewChanQueue[int](1 << 16) }},
	{"mutex-ring", func() Queue[int] { return NewMutexQueue[int]() }},
}

func TestFIFOSequential(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			q := im.new()
			_, ok := q.Dequeue()
			assert.False(t, ok)
			for i := range 100 {
				require.True(t, q.Enqueue(i))
			}
			for i := range 100 {
				v, ok := q.Dequeue()
				require.True(t, ok)
				require.Equal(t, i, v)
			}
			_, ok = q.Dequeue()
			assert.False(t, ok)
		})
	}
}

func TestChanQueueFull(t *testing.T) {
	q := NewChanQueue[int](1)
	assert.True(t, q.Enqueue(1))
	assert.False(t, q.Enqueue(2))
}

// TestStress: producers enqueue (producer, seq) pairs; consumers dequeue until all are seen.
// Every value comes out exactly once, and each consumer sees each producer's values in order.
func TestStress(t *testing.T) {
	const producers, consumers, per = 4, 4, 5000
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			q := im.new()
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					for s := range per {
						for !q.Enqueue(p*per + s) {
						}
					}
				})
			}
			seen := make([][]int, consumers)
			var mu sync.Mutex
			total := 0
			for c := range consumers {
				wg.Go(func() {
					last := [producers]int{-1, -1, -1, -1}
					for {
						mu.Lock()
						done := total == producers*per
						mu.Unlock()
						if done {
							return
						}
						v, ok := q.Dequeue()
						if !ok {
							continue
						}
						p, s := v/per, v%per
						if s <= last[p] {
							t.Errorf("consumer %d saw producer %d's %d after %d", c, p, s, last[p])
						}
						last[p] = s
						seen[c] = append(seen[c], v)
						mu.Lock()
						total++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			count := make([]int, producers*per)
			for _, s := range seen {
				for _, v := range s {
					count[v]++
				}
			}
			for v, n := range count {
				if n != 1 {
					t.Fatalf("value %d dequeued %d times", v, n)
				}
			}
		})
	}
}

type qInput struct {
	enq bool
	v   int
}
type qOutput struct {
	v  int
	ok bool
}

var hashSeed = maphash.MakeSeed()

// queueModel is the sequential FIFO specification porcupine checks histories against. The state
// is the queue's content as a string, so states compare with ==.
var queueModel = porcupine.Model{
	Init: func() any { return "" },
	Hash: func(state any) uint64 { return maphash.String(hashSeed, state.(string)) },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(qInput), output.(qOutput)
		if in.enq {
			return true, s + strconv.Itoa(in.v) + ","
		}
		if s == "" {
			return !out.ok, s
		}
		head, rest, _ := strings.Cut(s, ",")
		return out.ok && strconv.Itoa(out.v) == head, rest
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(qInput), output.(qOutput)
		if in.enq {
			return fmt.Sprintf("enq(%d)", in.v)
		}
		return fmt.Sprintf("deq() -> %d,%v", out.v, out.ok)
	},
}

// history runs clients goroutines, each doing ops random enqueues/dequeues, and records every
// operation's call and return time.
func history(q Queue[int], clients, ops int, seed int) []porcupine.Operation {
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	out := make([][]porcupine.Operation, clients)
	var wg sync.WaitGroup
	// A spinning barrier: every client starts at the same instant, so their operations overlap
	// (released from a channel, the first client often finishes before the last one wakes).
	var ready atomic.Int32
	for c := range clients {
		wg.Go(func() {
			ready.Add(1)
			for ready.Load() < int32(clients) {
				runtime.Gosched()
			}
			x := uint32(seed*7919 + c*104729 + 1)
			for i := range ops {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				in := qInput{enq: x%2 == 0, v: c*ops + i}
				call := now()
				// Yield inside the interval: on a loaded machine the two OS threads rarely run at
				// the same instant, so without this the history is often purely sequential.
				runtime.Gosched()
				var o qOutput
				if in.enq {
					q.Enqueue(in.v)
				} else {
					o.v, o.ok = q.Dequeue()
				}
				out[c] = append(out[c], porcupine.Operation{ClientId: c, Input: in, Call: call, Output: o, Return: now()})
			}
		})
	}
	wg.Wait()
	var all []porcupine.Operation
	for _, h := range out {
		all = append(all, h...)
	}
	return all
}

// TestLinearizable checks many short histories rather than a few long ones: the search grows
// exponentially with how many operations overlap, and a client the OS descheduled
// mid-operation overlaps all the others'. Unknown (the checker timed out) fails the test too.
func TestLinearizable(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			overlapping := 0
			for round := range 30 {
				h := history(im.new(), 2, 60, round)
				overlapping += overlaps(h)
				res := porcupine.CheckOperationsTimeout(queueModel, h, 30*time.Second)
				require.Equal(t, porcupine.Ok, res, "round %d: history is not linearizable", round)
			}
			// Otherwise the histories were sequential and the check proved little.
			assert.Positive(t, overlapping, "no two operations of different clients overlapped")
		})
	}
}

// overlaps counts pairs of operations from different clients whose intervals intersect.
func overlaps(h []porcupine.Operation) int {
	n := 0
	for i, a := range h {
		for _, b := range h[i+1:] {
			if a.ClientId != b.ClientId && a.Call <= b.Return && b.Call <= a.Return {
				n++
			}
		}
	}
	return n
}

// stack is a broken "queue" (LIFO); the checker must reject its histories, or the test above
// would prove nothing.
type stack struct {
	mu sync.Mutex
	s  []int
}

func (s *stack) Enqueue(v int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s = append(s.s, v)
	return true
}
func (s *stack) Dequeue() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.s) == 0 {
		return 0, false
	}
	v := s.s[len(s.s)-1]
	s.s = s.s[:len(s.s)-1]
	return v, true
}

func TestCheckerCatchesLIFO(t *testing.T) {
	h := history(&stack{}, 1, 50, 1) // one client: a sequential history
	assert.Equal(t, porcupine.Illegal, porcupine.CheckOperationsTimeout(queueModel, h, 10*time.Second))
}

// BenchmarkQueue: GOMAXPROCS goroutines each enqueue then dequeue, so the queue stays short and
// every operation contends with the others.
func BenchmarkQueue(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			q := im.new()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					q.Enqueue(i)
					q.Dequeue()
					i++
				}
			})
		})
	}
}
