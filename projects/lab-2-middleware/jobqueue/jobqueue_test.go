package jobqueue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := New(Config{Workers: 0}, nil)
	assert.Error(t, err)
	_, err = New(Config{Workers: 1, AdmitRate: -1}, func(context.Context, []byte) error { return nil })
	assert.Error(t, err)
}

// TestOverload offers 200 messages at once to one slow worker: the unbounded queue takes them
// all; the bounded one keeps 4 and sheds the rest.
func TestOverload(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantQueue func(n int) bool
		wantShed  func(n int64) bool
	}{
		{"defect: unbounded", Config{Workers: 1, Unbounded: true}, func(n int) bool { return n > 150 }, func(n int64) bool { return n == 0 }},
		{"fix: bounded with shedding", Config{Workers: 1, QueueSize: 4}, func(n int) bool { return n <= 4 }, func(n int64) bool { return n >= 190 }},
		{"fix: admission limiter", Config{Workers: 1, QueueSize: 100, AdmitRate: 1, AdmitBurst: 3}, func(n int) bool { return n <= 4 }, func(n int64) bool { return n >= 190 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			var done atomic.Int64
			cfg := tt.cfg
			cfg.OnDone = func(time.Duration, error) { done.Add(1) }
			q, err := New(cfg, func(ctx context.Context, _ []byte) error {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			})
			require.NoError(t, err)
			var shedErrs int64
			for range 200 {
				if err := q.Enqueue(make([]byte, 64)); errors.Is(err, ErrOverloaded) {
					shedErrs++
				}
			}
			assert.True(t, tt.wantQueue(q.Len()), "queue length %d", q.Len())
			assert.True(t, tt.wantShed(q.Shed()), "shed %d", q.Shed())
			assert.Equal(t, q.Shed(), shedErrs)
			close(release)
			q.Close()
		})
	}
}

func TestUnboundedFIFOAndCopies(t *testing.T) {
	u := NewUnbounded()
	buf := []byte("a")
	u.Push(buf)
	buf[0] = 'z' // the queue kept its own copy
	u.Push([]byte("b"))
	time.Sleep(2 * time.Millisecond)
	assert.Greater(t, u.OldestWait(), time.Duration(0))
	ctx := context.Background()
	j1, ok := u.Pop(ctx)
	require.True(t, ok)
	j2, _ := u.Pop(ctx)
	assert.Equal(t, "a", string(j1.payload))
	assert.Equal(t, "b", string(j2.payload))
	assert.Equal(t, 0, u.Len())
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, ok = u.Pop(cctx)
	assert.False(t, ok, "Pop on an empty queue returns when ctx ends")
}
