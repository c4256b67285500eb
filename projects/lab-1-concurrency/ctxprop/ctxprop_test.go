package ctxprop

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type stack struct {
	h         *Handler
	b         *SlowBackend
	mu        sync.Mutex
	deadlines map[string]time.Time
}

func newStack(handler, service, store time.Duration, latency func(string) time.Duration) *stack {
	st := &stack{deadlines: map[string]time.Time{}}
	obs := func(layer string, d time.Time, ok bool) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if ok && (st.deadlines[layer].IsZero() || d.Before(st.deadlines[layer])) {
			st.deadlines[layer] = d
		}
	}
	st.b = &SlowBackend{Latency: latency, Fail: "bad"}
	st.h = &Handler{Budget: handler, Observe: obs, Service: &Service{Budget: service, Observe: obs,
		Store: &Store{Budget: store, Observe: obs, Backend: st.b}}}
	return st
}

func fixed(d time.Duration) func(string) time.Duration {
	return func(string) time.Duration { return d }
}

func TestDeadlinePropagation(t *testing.T) {
	tests := []struct {
		name                    string
		handler, service, store time.Duration
		latency                 time.Duration
		keys                    []string
		wantErr                 error
		// which layer's budget is the binding one for the store call
		binding string
	}{
		{name: "all fast", handler: time.Second, service: time.Second, store: time.Second,
			latency: time.Millisecond, keys: []string{"a", "b", "c"}, binding: "store"},
		{name: "handler budget is shortest and reaches the store", handler: 30 * time.Millisecond,
			service: time.Second, store: time.Second, latency: time.Second, keys: []string{"a", "b"},
			wantErr: context.DeadlineExceeded, binding: "handler"},
		{name: "service budget is shortest", handler: time.Second, service: 30 * time.Millisecond,
			store: time.Second, latency: time.Second, keys: []string{"a"}, wantErr: context.DeadlineExceeded,
			binding: "service"},
		{name: "store budget is shortest", handler: time.Second, service: time.Second,
			store: 30 * time.Millisecond, latency: time.Second, keys: []string{"a"},
			wantErr: context.DeadlineExceeded, binding: "store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStack(tt.handler, tt.service, tt.store, fixed(tt.latency))
			start := time.Now()
			_, err := st.h.Serve(context.Background(), tt.keys)
			elapsed := time.Since(start)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Less(t, elapsed, 500*time.Millisecond, "the shortest budget, not the backend, decided")
			} else {
				require.NoError(t, err)
			}
			// The deadline never grows on the way down.
			assert.False(t, st.deadlines["service"].After(st.deadlines["handler"]))
			assert.False(t, st.deadlines["store"].After(st.deadlines["service"]))
			// The store's deadline is the binding layer's deadline (within scheduling slack).
			assert.WithinDuration(t, st.deadlines[tt.binding], st.deadlines["store"], 5*time.Millisecond)
			assert.Zero(t, st.h.Service.Live.Load(), "no lookup goroutine outlived the request")
		})
	}
}

func TestCancellationReachesEveryGoroutine(t *testing.T) {
	st := newStack(time.Minute, time.Minute, time.Minute, fixed(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	done := make(chan error, 1)
	go func() {
		_, err := st.h.Serve(ctx, keys)
		done <- err
	}()
	require.Eventually(t, func() bool { return st.b.Calls.Load() == int64(len(keys)) }, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, len(keys), st.h.Service.Live.Load())
	cancel() // the client went away
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	assert.EqualValues(t, len(keys), st.b.Abandoned.Load(), "every backend call saw the cancellation")
	assert.Zero(t, st.h.Service.Live.Load())
}

func TestOneFailureCancelsSiblings(t *testing.T) {
	st := newStack(time.Minute, time.Minute, time.Minute, fixed(time.Minute))
	start := time.Now()
	_, err := st.h.Serve(context.Background(), []string{"a", "b", "bad", "c"})
	require.ErrorIs(t, err, errNotFound)
	assert.False(t, errors.Is(err, context.Canceled), "the first error wins, not the cancellations it caused")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Zero(t, st.h.Service.Live.Load())
}
