package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errDep = errors.New("unavailable")

func TestDo(t *testing.T) {
	permanent := errors.New("bad request")
	tests := []struct {
		name         string
		policy       func() Policy
		failures     int // fn fails this many times, then succeeds
		failWith     error
		wantAttempts int
		wantErr      error
	}{
		{"success first", func() Policy { return Policy{MaxAttempts: 3} }, 0, errDep, 1, nil},
		{"recovers", func() Policy { return Policy{MaxAttempts: 3} }, 2, errDep, 3, nil},
		{"runs out", func() Policy { return Policy{MaxAttempts: 3} }, 10, errDep, 3, errDep},
		{"zero policy is one attempt", func() Policy { return Policy{} }, 10, errDep, 1, errDep},
		{"not retryable", func() Policy {
			return Policy{MaxAttempts: 5, Retryable: func(err error) bool { return !errors.Is(err, permanent) }}
		}, 10, permanent, 1, permanent},
		{"budget stops retries", func() Policy {
			b, _ := NewBudget(0, 1)
			return Policy{MaxAttempts: 5, Budget: b}
		}, 10, errDep, 2, ErrBudgetExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			attempts, err := tt.policy().Do(context.Background(), func(context.Context) error {
				calls++
				if calls <= tt.failures {
					return tt.failWith
				}
				return nil
			})
			assert.Equal(t, tt.wantAttempts, attempts)
			assert.Equal(t, tt.wantAttempts, calls)
			if tt.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestBudgetRatio(t *testing.T) {
	b, err := NewBudget(0.1, 1)
	require.NoError(t, err)
	retries := 0
	for range 1000 {
		b.Deposit()
		for b.Withdraw() {
			retries++
		}
	}
	assert.InDelta(t, 100, retries, 2, "about one retry per ten first attempts")
	_, err = NewBudget(2, 1)
	assert.Error(t, err)
	_, err = NewBudget(0.1, -1)
	assert.Error(t, err)
}

func TestBackoffAndCancel(t *testing.T) {
	p := Policy{BaseDelay: 10 * time.Millisecond, MaxDelay: 25 * time.Millisecond, Rand: func() float64 { return 0.999 }}
	assert.InDelta(t, float64(10*time.Millisecond), float64(p.backoff(1)), float64(time.Millisecond))
	assert.InDelta(t, float64(20*time.Millisecond), float64(p.backoff(2)), float64(time.Millisecond))
	assert.InDelta(t, float64(25*time.Millisecond), float64(p.backoff(5)), float64(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	slow := Policy{MaxAttempts: 100, BaseDelay: time.Hour}
	start := time.Now()
	attempts, err := slow.Do(ctx, func(context.Context) error { return errDep })
	assert.Equal(t, 1, attempts)
	assert.ErrorIs(t, err, errDep)
	assert.Less(t, time.Since(start), time.Second, "backoff wait honours ctx")
}
