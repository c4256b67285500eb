package lock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newManager(t *testing.T, timeout time.Duration) *Manager {
	t.Helper()
	m, err := New(Options{WaitTimeout: timeout})
	require.NoError(t, err)
	return m
}

func TestCompatibility(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		first, then Mode
		waits       bool
	}{
		{"S then S", Shared, Shared, false},
		{"S then X", Shared, Exclusive, true},
		{"X then S", Exclusive, Shared, true},
		{"X then X", Exclusive, Exclusive, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, 30*time.Millisecond)
			require.NoError(t, m.Acquire(ctx, 1, "t", []byte("k"), tc.first))
			err := m.Acquire(ctx, 2, "t", []byte("k"), tc.then)
			if tc.waits {
				require.ErrorIs(t, err, ErrLockWaitTimeout)
				require.Equal(t, uint64(1), m.Stats().Timeouts)
			} else {
				require.NoError(t, err)
			}
			// Another key is independent.
			require.NoError(t, m.Acquire(ctx, 2, "t", []byte("other"), Exclusive))
			m.ReleaseAll(1)
			m.ReleaseAll(2)
			require.Empty(t, m.rows, "released rows are forgotten")
		})
	}
}

func TestAWaiterIsGrantedWhenTheHolderReleases(t *testing.T) {
	m := newManager(t, 5*time.Second)
	ctx := context.Background()
	require.NoError(t, m.Acquire(ctx, 1, "t", []byte("k"), Exclusive))
	done := make(chan error)
	go func() { done <- m.Acquire(ctx, 2, "t", []byte("k"), Exclusive) }()
	require.Eventually(t, func() bool { return m.Stats().Waits == 1 }, time.Second, time.Millisecond)
	m.ReleaseAll(1)
	require.NoError(t, <-done)
	m.ReleaseAll(2)
}

// Two transactions lock two rows in opposite orders: the second wait closes the
// cycle and is answered at once, without waiting for the timeout.
func TestATwoTransactionCycleIsDetectedAtOnce(t *testing.T) {
	m := newManager(t, 10*time.Second)
	ctx := context.Background()
	a, b := []byte("a"), []byte("b")
	require.NoError(t, m.Acquire(ctx, 1, "t.PRIMARY", a, Exclusive))
	require.NoError(t, m.Acquire(ctx, 2, "t.PRIMARY", b, Exclusive))
	m.SetStatement(2, "UPDATE t SET v = v + 1 WHERE k = 'a'")
	first := make(chan error)
	go func() { first <- m.Acquire(ctx, 1, "t.PRIMARY", b, Exclusive) }()
	require.Eventually(t, func() bool { return m.Stats().Waits == 1 }, time.Second, time.Millisecond)

	start := time.Now()
	err := m.Acquire(ctx, 2, "t.PRIMARY", a, Exclusive)
	elapsed := time.Since(start)
	// Both hold one lock: the tie goes against the younger, transaction 2.
	require.ErrorIs(t, err, ErrDeadlock)
	require.Less(t, elapsed, 50*time.Millisecond)
	t.Logf("deadlock detected in %v", elapsed)
	m.ReleaseAll(2)
	require.NoError(t, <-first, "the survivor gets its lock once the victim rolls back")
	m.ReleaseAll(1)

	report := m.LatestDeadlock()
	for _, want := range []string{
		"LATEST DETECTED DEADLOCK",
		"*** (1) TRANSACTION:\nTRANSACTION 2,",
		"row lock(s)\nUPDATE t SET v = v + 1 WHERE k = 'a'\n*** (1) HOLDS THE LOCK(S):",
		"*** (1) HOLDS THE LOCK(S):\nRECORD LOCKS index `t.PRIMARY` trx id 2 lock_mode X locks rec but not gap\n",
		"*** (1) WAITING FOR THIS LOCK TO BE GRANTED:\nRECORD LOCKS index `t.PRIMARY` trx id 2 lock_mode X locks rec but not gap waiting\nRecord lock, PHYSICAL RECORD: n_fields 1; hex 61; asc a;;",
		"*** (2) TRANSACTION:\nTRANSACTION 1,",
		"*** WE ROLL BACK TRANSACTION (1)",
	} {
		require.Contains(t, report, want)
	}
	require.Equal(t, uint64(1), m.Stats().Deadlocks)
}

// The victim is the transaction holding fewer locks, even when it is older
// and is not the one whose request closed the cycle.
func TestTheVictimHoldsTheFewestLocks(t *testing.T) {
	m := newManager(t, 10*time.Second)
	ctx := context.Background()
	require.NoError(t, m.Acquire(ctx, 1, "t", []byte("a"), Exclusive))
	for _, k := range []string{"b", "c", "d"} {
		require.NoError(t, m.Acquire(ctx, 2, "t", []byte(k), Exclusive))
	}
	older := make(chan error)
	go func() { older <- m.Acquire(ctx, 1, "t", []byte("b"), Exclusive) }()
	require.Eventually(t, func() bool { return m.Stats().Waits == 1 }, time.Second, time.Millisecond)
	younger := make(chan error)
	go func() { younger <- m.Acquire(ctx, 2, "t", []byte("a"), Exclusive) }()
	require.ErrorIs(t, <-older, ErrDeadlock)
	m.ReleaseAll(1)
	require.NoError(t, <-younger)
	m.ReleaseAll(2)
	require.Contains(t, m.LatestDeadlock(), "*** WE ROLL BACK TRANSACTION (")
}

// Two shared holders that both upgrade to exclusive deadlock on one row.
func TestUpgradeDeadlock(t *testing.T) {
	m := newManager(t, 10*time.Second)
	ctx := context.Background()
	k := []byte("k")
	require.NoError(t, m.Acquire(ctx, 1, "t", k, Shared))
	require.NoError(t, m.Acquire(ctx, 2, "t", k, Shared))
	first := make(chan error)
	go func() { first <- m.Acquire(ctx, 1, "t", k, Exclusive) }()
	require.Eventually(t, func() bool { return m.Stats().Waits == 1 }, time.Second, time.Millisecond)
	require.ErrorIs(t, m.Acquire(ctx, 2, "t", k, Exclusive), ErrDeadlock)
	m.ReleaseAll(2)
	require.NoError(t, <-first)
	m.ReleaseAll(1)
}

func TestACancelledWaitGivesUpItsPlace(t *testing.T) {
	m := newManager(t, 10*time.Second)
	require.NoError(t, m.Acquire(context.Background(), 1, "t", []byte("k"), Exclusive))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := m.Acquire(ctx, 2, "t", []byte("k"), Exclusive)
	require.True(t, errors.Is(err, context.DeadlineExceeded), err)
	m.ReleaseAll(1)
	m.ReleaseAll(2)
	require.Empty(t, m.rows)
}
