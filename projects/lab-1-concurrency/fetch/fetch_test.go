package fetch

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The leaky handler's workers block forever by design (that is the defect under study); the
// one test that builds it asserts them and goleak ignores exactly that frame.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/fetch.(*Handler).work"))
}

func latency(d time.Duration) func(string) time.Duration {
	return func(string) time.Duration { return d }
}

func TestServe(t *testing.T) {
	tests := []struct {
		name        string
		leaky       bool
		latency     time.Duration
		wantErr     error
		wantWorkers int64
	}{
		{"fast backend, fixed", false, 0, nil, 0},
		{"fast backend, leaky: no timeout, no leak", true, 0, nil, 0},
		{"slow backend, fixed: the worker exits", false, time.Second, ErrTimeout, 0},
		{"slow backend, leaky: the worker is stuck", true, time.Second, ErrTimeout, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(SlowBackend(latency(tt.latency)), 20*time.Millisecond, tt.leaky)
			require.NoError(t, err)
			v, err := h.Serve(context.Background(), "k")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorIs(t, err, context.DeadlineExceeded)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "value:k", v)
			}
			// Give the worker time to see the cancellation and finish (or not).
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, tt.wantWorkers, h.Workers.Load())
		})
	}
}

func TestLeakGrowsWithRequests(t *testing.T) {
	before := runtime.NumGoroutine()
	h, err := New(SlowBackend(latency(time.Second)), time.Millisecond, true)
	require.NoError(t, err)
	for range 50 {
		_, _ = h.Serve(context.Background(), "k")
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine()-before >= 50 }, 5*time.Second, 10*time.Millisecond,
		"every timed-out request leaves its worker behind")
	assert.EqualValues(t, 50, h.Workers.Load())
}

func TestBadInput(t *testing.T) {
	_, err := New(nil, time.Second, false)
	assert.ErrorContains(t, err, "want a backend")
	_, err = New(SlowBackend(latency(0)), 0, false)
	assert.ErrorContains(t, err, "timeout > 0")
}
