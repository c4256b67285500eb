// Package fetch is a request handler that calls a slow dependency on a worker goroutine and
// gives up after a timeout. Built with Leaky, it has the classic goroutine leak: the worker
// sends its result on an unbuffered channel, and when the handler has already returned on
// timeout nobody will ever receive, so the worker blocks on that send forever.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Backend is the dependency: a database, another service.
type Backend func(ctx context.Context, key string) (string, error)

// ErrTimeout is returned when the backend did not answer within the handler's timeout.
var ErrTimeout = errors.New("fetch: backend timed out")

// Handler serves lookups through Backend.
type Handler struct {
	backend Backend
	timeout time.Duration
	leaky   bool
	// Workers counts worker goroutines started and not yet finished: with the leak it only grows.
	Workers atomic.Int64
}

// New returns a handler; leaky selects the defective version of Serve.
func New(b Backend, timeout time.Duration, leaky bool) (*Handler, error) {
	if b == nil || timeout <= 0 {
		return nil, fmt.Errorf("fetch: want a backend and a timeout > 0, got timeout %v", timeout)
	}
	return &Handler{backend: b, timeout: timeout, leaky: leaky}, nil
}

type result struct {
	v   string
	err error
}

// Serve looks key up, waiting at most the handler's timeout.
func (h *Handler) Serve(ctx context.Context, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	// exercise:begin goroutine-leak
	// The fix: room for the one result, so the worker's send never waits for a receiver.
	results := make(chan result, 1)
	// exercise:stub
	// results := make(chan result)
	// exercise:end
	if h.leaky {
		results = make(chan result) // the defect: the send needs a receiver that may be gone
	}
	h.Workers.Add(1)
	go h.work(ctx, key, results)
	select {
	case r := <-results:
		return r.v, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("%w after %v: %w", ErrTimeout, h.timeout, ctx.Err())
	}
}

// work calls the backend and hands the result to Serve. With an unbuffered channel and Serve
// gone, the send below is where the goroutine stays for the rest of the process's life.
func (h *Handler) work(ctx context.Context, key string, results chan<- result) {
	defer h.Workers.Add(-1)
	v, err := h.backend(ctx, key)
	results <- result{v, err}
}

// SlowBackend answers after latency(key), the stand-in for a remote call's response time,
// and stops early when its context ends, as a well-behaved client does.
func SlowBackend(latency func(key string) time.Duration) Backend {
	return func(ctx context.Context, key string) (string, error) {
		t := time.NewTimer(latency(key))
		defer t.Stop()
		select {
		case <-t.C:
			return "value:" + key, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
