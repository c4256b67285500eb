package timingwheel

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRejectsBadTick(t *testing.T) {
	_, err := New(0)
	assert.Error(t, err)
}

func TestAfterFuncNeverEarlyAndOrdered(t *testing.T) {
	w, err := New(time.Millisecond)
	require.NoError(t, err)
	defer w.Stop()
	var mu sync.Mutex
	var order []int
	late := map[int]time.Duration{}
	var wg sync.WaitGroup
	start := time.Now()
	delays := []int{50, 10, 30, 20, 40}
	for _, ms := range delays {
		wg.Add(1)
		d := time.Duration(ms) * time.Millisecond
		_, err := w.AfterFunc(d, func() {
			mu.Lock()
			order = append(order, ms)
			late[ms] = time.Since(start) - d
			mu.Unlock()
			wg.Done()
		})
		require.NoError(t, err)
	}
	wg.Wait()
	assert.Equal(t, []int{10, 20, 30, 40, 50}, order)
	for ms, l := range late {
		assert.GreaterOrEqual(t, l, time.Duration(0), "%dms timer fired early", ms)
	}
}

func TestStopCancels(t *testing.T) {
	w, _ := New(time.Millisecond)
	defer w.Stop()
	fired := make(chan struct{}, 1)
	tm, _ := w.AfterFunc(20*time.Millisecond, func() { fired <- struct{}{} })
	assert.True(t, tm.Stop())
	assert.False(t, tm.Stop(), "second Stop reports nothing to cancel")
	assert.Equal(t, 0, w.Len())
	select {
	case <-fired:
		t.Fatal("cancelled timer fired")
	case <-time.After(60 * time.Millisecond):
	}
	done := make(chan struct{})
	tm2, _ := w.AfterFunc(time.Millisecond, func() { close(done) })
	<-done
	assert.False(t, tm2.Stop(), "already fired")
}

func TestChannelAPI(t *testing.T) {
	w, _ := New(time.Millisecond)
	defer w.Stop()
	start := time.Now()
	<-w.After(15 * time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond)
	tm, _ := w.NewTimer(time.Hour)
	assert.True(t, tm.Stop())
	assert.NotNil(t, tm.C())
}

func TestStoppedWheel(t *testing.T) {
	w, _ := New(time.Millisecond)
	_, _ = w.AfterFunc(time.Hour, func() {})
	w.Stop()
	w.Stop() // idempotent
	_, err := w.AfterFunc(time.Millisecond, func() {})
	assert.ErrorIs(t, err, ErrStopped)
	assert.Nil(t, w.After(time.Millisecond))
}

// TestNoDrift schedules timers over a second and checks lateness does not grow with time: the
// wheel reads the monotonic clock each tick instead of counting ticks. Lateness is judged by the
// median, which scheduler noise on a busy machine barely moves.
func TestNoDrift(t *testing.T) {
	w, _ := New(time.Millisecond)
	defer w.Stop()
	var mu sync.Mutex
	var early, lateEnd []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := 1; i <= 100; i++ {
		d := time.Duration(i) * 10 * time.Millisecond
		wg.Add(1)
		_, _ = w.AfterFunc(d, func() {
			l := time.Since(start) - d
			mu.Lock()
			if i <= 20 {
				early = append(early, l)
			} else if i > 80 {
				lateEnd = append(lateEnd, l)
			}
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	for _, l := range append(early, lateEnd...) {
		require.GreaterOrEqual(t, l, time.Duration(0), "never early")
	}
	assert.Less(t, median(lateEnd), median(early)+10*time.Millisecond, "lateness after 1s within 10ms of lateness at the start")
}
