package watchdog

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWatchdog(t *testing.T) {
	tests := []struct {
		name       string
		moving     bool
		pending    int64
		wantStalls int
	}{
		{"progress moves", true, 1, 0},
		{"stuck with work pending", false, 3, 1},
		{"idle: nothing pending", false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progress atomic.Int64
			var got []Stall
			var mu sync.Mutex
			w, err := New(Config{
				Progress: func() int64 {
					if tt.moving {
						return progress.Add(1)
					}
					return progress.Load()
				},
				Pending: func() int64 { return tt.pending },
				After:   30 * time.Millisecond, Every: 5 * time.Millisecond,
				OnStall: func(s Stall) { mu.Lock(); got = append(got, s); mu.Unlock() },
			})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			w.Run(ctx)
			n, dur := w.Stalls()
			assert.Equal(t, tt.wantStalls, n)
			mu.Lock()
			assert.Len(t, got, tt.wantStalls)
			mu.Unlock()
			if tt.wantStalls > 0 {
				assert.True(t, w.Stalled())
				assert.Greater(t, dur, 150*time.Millisecond, "stuck from the start of a 200ms run")
				assert.Equal(t, tt.pending, got[0].Pending)
				assert.Contains(t, got[0].String(), "no progress for")
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	_, err := New(Config{})
	assert.ErrorContains(t, err, "want Progress")
}
