package bank

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/watchdog"
)

// TestDeadlockIsReal leaves its deadlocked goroutines blocked forever: nothing can release a
// goroutine stuck in sync.Mutex.Lock on a lock whose owner is stuck too. goleak ignores exactly
// the goroutines with Transfer on their stack; every other test in this package joins its
// goroutines before returning (the ordered bank never deadlocks), so nothing else is hidden.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(
		"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/bank.(*Bank).Transfer"))
}

// hammer runs workers random transfers until ctx is done; it returns a function that waits for
// the workers at most grace and reports how many are still stuck.
func hammer(ctx context.Context, b *Bank, workers, accounts int) func(grace time.Duration) int {
	var mu sync.Mutex
	live := workers
	for w := range workers {
		go func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				from := r.IntN(accounts)
				to := (from + 1 + r.IntN(accounts-1)) % accounts
				_ = b.Transfer(from, to, 1)
			}
			mu.Lock()
			live--
			mu.Unlock()
		}()
	}
	// Polling rather than a goroutine blocked in wg.Wait: with a deadlock that goroutine would
	// be stuck too.
	return func(grace time.Duration) int {
		deadline := time.Now().Add(grace)
		for {
			mu.Lock()
			n := live
			mu.Unlock()
			if n == 0 || time.Now().After(deadline) {
				return n
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func TestOrderedNeverDeadlocks(t *testing.T) {
	b, err := New(4, 1000, true)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	wait := hammer(ctx, b, 32, 4)
	<-ctx.Done()
	require.Zero(t, wait(10*time.Second), "every worker finished")
	assert.EqualValues(t, 4000, b.Total(), "money is conserved")
	assert.Positive(t, b.Completed.Load())
}

func TestDeadlockIsReal(t *testing.T) {
	b, err := New(4, 1000, false)
	require.NoError(t, err)
	var stalls []watchdog.Stall
	var mu sync.Mutex
	wd, err := watchdog.New(watchdog.Config{Progress: b.Completed.Load, Pending: b.InFlight.Load,
		After: 100 * time.Millisecond, OnStall: func(s watchdog.Stall) { mu.Lock(); stalls = append(stalls, s); mu.Unlock() }})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	wdDone := make(chan struct{})
	go func() { wd.Run(ctx); close(wdDone) }()
	wait := hammer(ctx, b, 32, 4)
	<-ctx.Done()
	<-wdDone
	stuck := wait(200 * time.Millisecond)
	assert.Positive(t, stuck, "some workers are deadlocked")
	mu.Lock()
	assert.NotEmpty(t, stalls, "the watchdog reported the stall")
	mu.Unlock()
	assert.True(t, wd.Stalled())
	assert.Positive(t, b.InFlight.Load())
}

func TestBadInput(t *testing.T) {
	_, err := New(1, 10, true)
	assert.ErrorContains(t, err, "at least 2 accounts")
	b, err := New(2, 10, true)
	require.NoError(t, err)
	for _, c := range [][3]int64{{0, 0, 1}, {0, 5, 1}, {0, 1, 0}, {-1, 1, 1}} {
		assert.ErrorContains(t, b.Transfer(int(c[0]), int(c[1]), c[2]), "want two different accounts")
	}
	assert.ErrorIs(t, b.Transfer(0, 1, 11), ErrInsufficientFunds)
	require.NoError(t, b.Transfer(0, 1, 10))
	assert.EqualValues(t, 20, b.Total())
}
