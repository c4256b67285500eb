package depclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/breaker"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRejectsBadConfig(t *testing.T) {
	s, _ := store.NewSim(1, 0)
	_, err := New(s, Config{})
	assert.Error(t, err)
	_, err = New(s, Config{MaxAttempts: 2, Guarded: true, BudgetRatio: 2})
	assert.Error(t, err)
}

// TestAttemptsAgainstFailingDependency: 200 requests to a dependency that is down.
func TestAttemptsAgainstFailingDependency(t *testing.T) {
	tests := []struct {
		name           string
		guarded        bool
		minPer, maxPer float64
	}{
		{"defect: retries multiply load", false, 4, 4},
		{"fix: breaker and budget", true, 0, 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, _ := store.NewSim(4, 0)
			sim.SetDown(true)
			c, err := New(sim, Config{MaxAttempts: 4, Guarded: tt.guarded, BudgetRatio: 0.1, BaseDelay: time.Microsecond,
				Breaker: breaker.Config{MinRequests: 10, OpenTimeout: time.Hour}})
			require.NoError(t, err)
			for range 200 {
				_, err := c.Get(context.Background(), "k")
				assert.Error(t, err)
			}
			per := float64(c.Attempts()) / float64(c.Requests())
			assert.GreaterOrEqual(t, per, tt.minPer)
			assert.LessOrEqual(t, per, tt.maxPer)
			if tt.guarded {
				assert.Equal(t, breaker.Open, c.BreakerState())
			}
		})
	}
}

func TestHealthyDependency(t *testing.T) {
	sim, _ := store.NewSim(4, 0)
	for _, guarded := range []bool{false, true} {
		c, _ := New(sim, Config{MaxAttempts: 3, Guarded: guarded, BudgetRatio: 0.1})
		v, err := c.Get(context.Background(), "k")
		require.NoError(t, err)
		assert.Equal(t, "value-of-k", v)
		assert.Equal(t, int64(1), c.Attempts())
	}
}

// TestAttemptTimeoutBoundsEachCall: against a stalled server each attempt gives up after
// AttemptTimeout, and the unguarded client makes all of them, each one more request in the
// server's queue (a timeout does not take a request back).
func TestAttemptTimeoutBoundsEachCall(t *testing.T) {
	srv, err := store.NewServer(1, 16, 0)
	require.NoError(t, err)
	defer srv.Close()
	srv.Stall(time.Second)
	c, err := New(srv, Config{MaxAttempts: 3, AttemptTimeout: 10 * time.Millisecond})
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Get(context.Background(), "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "each attempt must give up after its timeout, not wait out the stall")
	assert.Equal(t, int64(3), c.Attempts())
	assert.Equal(t, 2, srv.QueueLen(), "the worker holds the first attempt; the two retries wait behind it")
}
