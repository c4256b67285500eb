// Package store is the backing dependency the lab's caches and clients sit in front of: a database
// with a bounded number of connections and a service time per query.
//
// Two implementations share one interface:
//   - Sim, the embedded default, models the database in process: a semaphore of Conns connections
//     and a fixed service time per query. The service time is the dependency's latency, injected
//     here at the client layer (the only place the lab contract allows a wait to stand in for
//     work); the code under study never sleeps.
//   - Postgres runs the same query shape against a real PostgreSQL through a pgx pool capped at
//     Conns connections, the service time spent in the server by pg_sleep.
//
// Meter wraps either one and counts what the scenarios measure: calls in total and per key, calls
// waiting or running, and calls per time bucket (peak against mean QPS).
package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrUnavailable is what a store that is down returns.
var ErrUnavailable = errors.New("store: unavailable")

// Store is a key-value read against the backing dependency.
type Store interface {
	Get(ctx context.Context, key string) (string, error)
}

// Sim is the embedded database model.
type Sim struct {
	conns   chan struct{}
	service time.Duration
	down    atomic.Bool
}

// NewSim returns a database model with conns connections and service time per query.
func NewSim(conns int, service time.Duration) (*Sim, error) {
	if conns < 1 {
		return nil, fmt.Errorf("store: conns must be at least 1, got %d", conns)
	}
	if service < 0 {
		return nil, fmt.Errorf("store: service time must not be negative, got %v", service)
	}
	return &Sim{conns: make(chan struct{}, conns), service: service}, nil
}

// SetDown makes every query fail with ErrUnavailable after its service time (true) or succeed.
func (s *Sim) SetDown(down bool) { s.down.Store(down) }

// Get waits for a free connection, holds it for the service time, and returns "value-of-<key>".
func (s *Sim) Get(ctx context.Context, key string) (string, error) {
	select {
	case s.conns <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("store: waiting for a connection: %w", ctx.Err())
	}
	defer func() { <-s.conns }()
	if s.service > 0 {
		t := time.NewTimer(s.service)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("store: query: %w", ctx.Err())
		}
	}
	if s.down.Load() {
		return "", ErrUnavailable
	}
	return "value-of-" + key, nil
}

// Close releases nothing; it is here so Sim and Postgres are interchangeable.
func (s *Sim) Close() {}
