// Package ctxprop shows a request's deadline and cancellation travelling through three layers:
// Handler (the API edge) -> Service (fans out to parallel lookups) -> Store (calls a dependency).
// Each layer may shorten the deadline it was given, never lengthen it, and every goroutine the
// request starts is joined before the layer that started it returns.
package ctxprop

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Backend is the dependency at the bottom: a database, another service.
type Backend interface {
	Get(ctx context.Context, key string) (string, error)
}

// Observer learns which deadline each layer ran under (nil: nobody is watching).
type Observer func(layer string, deadline time.Time, ok bool)

// Store is layer 3: one call to the backend, with its own per-call budget.
type Store struct {
	Backend Backend
	Budget  time.Duration // per call; the caller's deadline wins if it is sooner
	Observe Observer
}

// Get calls the backend under min(caller's deadline, now+Budget).
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Budget)
	defer cancel()
	observe(ctx, s.Observe, "store")
	v, err := s.Backend.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("store get %q: %w", key, err)
	}
	return v, nil
}

// Service is layer 2: it looks several keys up in parallel.
type Service struct {
	Store   *Store
	Budget  time.Duration
	Observe Observer
	// Live counts the goroutines this service has started and not yet joined.
	Live atomic.Int64
}

// Lookup fetches every key concurrently; the first failure cancels the others.
func (s *Service) Lookup(ctx context.Context, keys []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Budget)
	defer cancel()
	observe(ctx, s.Observe, "service")
	g, ctx := errgroup.WithContext(ctx)
	out := make([]string, len(keys))
	for i, k := range keys {
		s.Live.Add(1)
		g.Go(func() error {
			defer s.Live.Add(-1)
			v, err := s.Store.Get(ctx, k)
			out[i] = v
			return err
		})
	}
	// Wait joins every lookup goroutine before Lookup returns, whatever happened.
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("service lookup: %w", err)
	}
	return out, nil
}

// Handler is layer 1: it gives the whole request a deadline.
type Handler struct {
	Service *Service
	Budget  time.Duration
	Observe Observer
}

// Serve answers one request.
func (h *Handler) Serve(ctx context.Context, keys []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, h.Budget)
	defer cancel()
	observe(ctx, h.Observe, "handler")
	return h.Service.Lookup(ctx, keys)
}

func observe(ctx context.Context, o Observer, layer string) {
	if o != nil {
		d, ok := ctx.Deadline()
		o(layer, d, ok)
	}
}

// SlowBackend answers after Latency, the stand-in for a remote dependency's response time; it
// gives up as soon as its context is done. Fail makes one key fail immediately.
type SlowBackend struct {
	Latency func(key string) time.Duration
	Fail    string
	// Calls and Abandoned count the calls started and the calls cut short by their context.
	Calls, Abandoned atomic.Int64
}

var errNotFound = fmt.Errorf("not found")

// Get implements Backend.
func (b *SlowBackend) Get(ctx context.Context, key string) (string, error) {
	b.Calls.Add(1)
	if key == b.Fail {
		return "", fmt.Errorf("backend %q: %w", key, errNotFound)
	}
	t := time.NewTimer(b.Latency(key))
	defer t.Stop()
	select {
	case <-t.C:
		return "value-of-" + key, nil
	case <-ctx.Done():
		b.Abandoned.Add(1)
		return "", ctx.Err()
	}
}
