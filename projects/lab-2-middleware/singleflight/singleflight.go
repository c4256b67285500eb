// Package singleflight coalesces concurrent calls for the same key into one execution, the
// standard fix for a cache stampede: when a hot key misses, one caller loads it and every other
// caller waits for that result instead of hitting the backing store too.
//
// It is written here as a lesson beside golang.org/x/sync/singleflight. Differences: it is generic,
// and a panic in fn is returned to every caller as a *PanicError instead of being re-panicked, so a
// bad loader cannot crash the process through an unrelated waiter.
package singleflight

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// PanicError is returned to every caller of a call whose fn panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("singleflight: fn panicked: %v", p.Value) }

type call[V any] struct {
	wg   sync.WaitGroup
	val  V
	err  error
	dups int
	chs  []chan<- Result[V]
}

// Result is what DoChan delivers.
type Result[V any] struct {
	Val    V
	Err    error
	Shared bool
}

// Group runs at most one fn per key at a time. The zero value is ready to use.
type Group[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*call[V]
}

// Do runs fn for key unless a call for key is already in flight, in which case it waits for that
// call and returns its result. shared reports whether the result went to more than one caller.
func (g *Group[K, V]) Do(key K, fn func() (V, error)) (v V, err error, shared bool) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[K]*call[V])
	}
	if c, ok := g.m[key]; ok {
		c.dups++
		g.mu.Unlock()
		c.wg.Wait()
		return c.val, c.err, true
	}
	c := new(call[V])
	c.wg.Add(1)
	g.m[key] = c
	g.mu.Unlock()

	g.run(key, c, fn)
	return c.val, c.err, c.dups > 0
}

// DoChan is Do that delivers the result on a channel, so a caller can also select on a context.
func (g *Group[K, V]) DoChan(key K, fn func() (V, error)) <-chan Result[V] {
	ch := make(chan Result[V], 1)
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[K]*call[V])
	}
	if c, ok := g.m[key]; ok {
		c.dups++
		c.chs = append(c.chs, ch)
		g.mu.Unlock()
		return ch
	}
	c := &call[V]{chs: []chan<- Result[V]{ch}}
	c.wg.Add(1)
	g.m[key] = c
	g.mu.Unlock()
	go g.run(key, c, fn)
	return ch
}

func (g *Group[K, V]) run(key K, c *call[V], fn func() (V, error)) {
	func() {
		defer func() {
			if r := recover(); r != nil {
				c.err = &PanicError{Value: r, Stack: debug.Stack()}
			}
		}()
		c.val, c.err = fn()
	}()
	g.mu.Lock()
	if g.m[key] == c {
		delete(g.m, key)
	}
	chs := c.chs
	shared := c.dups > 0
	g.mu.Unlock()
	c.wg.Done()
	for _, ch := range chs {
		ch <- Result[V]{c.val, c.err, shared}
	}
}

// Forget makes the next Do for key run fn again even if a call is still in flight.
func (g *Group[K, V]) Forget(key K) {
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
}
