package pipeline

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func square(_ context.Context, x int) (int, error) { return x * x, nil }

func TestRun(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		cfg     Config
		n       int
		work    func(context.Context, int) (int, error)
		sinkErr bool
		want    int
		wantErr error
	}{
		{name: "unbuffered, one worker", cfg: Config{Workers: 1}, n: 1000, work: square, want: 332833500},
		{name: "buffered fan-out", cfg: Config{Workers: 8, Buffer: 16}, n: 1000, work: square, want: 332833500},
		{name: "a worker error cancels everything", cfg: Config{Workers: 4, Buffer: 4}, n: 1_000_000,
			work: func(_ context.Context, x int) (int, error) {
				if x == 500 {
					return 0, errBoom
				}
				return x, nil
			}, wantErr: errBoom},
		{name: "a sink error cancels everything", cfg: Config{Workers: 4}, n: 1_000_000, work: square,
			sinkErr: true, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, seen := 0, 0
			err := Run(context.Background(), tt.cfg, count(tt.n), tt.work, func(r int) error {
				seen++
				if tt.sinkErr && seen == 10 {
					return errBoom
				}
				sum += r
				return nil
			})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Less(t, seen, tt.n, "the pipeline stopped early")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, sum)
		})
	}
}

func TestCancellationReachesEveryStage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Workers: 4, Buffer: 2}, count(1<<30), func(ctx context.Context, x int) (int, error) {
			started.Add(1)
			return x, nil
		}, func(int) error { return nil })
	}()
	require.Eventually(t, func() bool { return started.Load() > 1000 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// goleak in TestMain proves that no stage outlived Run.
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{Workers: 0}, {Workers: 1, Buffer: -1}} {
		err := Run(context.Background(), c, count(1), square, func(int) error { return nil })
		assert.ErrorContains(t, err, "Workers >= 1")
	}
}

func TestMergeOrderFree(t *testing.T) {
	a, b := make(chan int), make(chan int)
	go func() { a <- 1; a <- 2; close(a) }()
	go func() { b <- 3; close(b) }()
	got := slices.Sorted(func(yield func(int) bool) {
		for v := range Merge(context.Background(), 0, a, b) {
			if !yield(v) {
				return
			}
		}
	})
	assert.Equal(t, []int{1, 2, 3}, got)
}

func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// BenchmarkBuffer shows what a channel buffer buys when per-item work is tiny and the hand-off
// between goroutines dominates: an unbuffered send needs the receiver there at that instant.
func BenchmarkBuffer(b *testing.B) {
	for _, buf := range []int{0, 1, 16, 256} {
		b.Run("buffer="+strconv.Itoa(buf), func(b *testing.B) {
			b.ReportAllocs()
			err := Run(context.Background(), Config{Workers: 2, Buffer: buf}, count(b.N), square,
				func(int) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
