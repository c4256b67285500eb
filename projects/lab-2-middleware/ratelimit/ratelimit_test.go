package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestConstructorsRejectBadInput(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
	}{
		{"zero rate", func() error { _, err := NewTokenBucket(0, 1); return err }},
		{"negative rate", func() error { _, err := NewTokenBucket(-1, 1); return err }},
		{"zero burst", func() error { _, err := NewTokenBucket(1, 0); return err }},
		{"zero limit", func() error { _, err := NewSlidingWindow(0, time.Second); return err }},
		{"zero window", func() error { _, err := NewSlidingWindow(1, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Error(t, tt.err()) })
	}
}

func TestTokenBucket(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []struct {
			advance time.Duration
			allowed int // how many Allow calls succeed in a burst of 100
		}
	}{
		{"burst then steady rate", 10, 5, []struct {
			advance time.Duration
			allowed int
		}{{0, 5}, {100 * time.Millisecond, 1}, {time.Second, 5}, {250 * time.Millisecond, 2}}},
		{"refill capped at burst", 1000, 3, []struct {
			advance time.Duration
			allowed int
		}{{0, 3}, {time.Hour, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(0, 0)}
			b, err := NewTokenBucket(tt.rate, tt.burst, WithClock(clk.now))
			require.NoError(t, err)
			for i, s := range tt.steps {
				clk.advance(s.advance)
				n := 0
				for range 100 {
					if b.Allow() {
						n++
					}
				}
				assert.Equal(t, s.allowed, n, "step %d", i)
			}
		})
	}
}

func TestTokenBucketTakeRetryAfter(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	b, _ := NewTokenBucket(4, 1, WithClock(clk.now))
	ok, _ := b.Take()
	require.True(t, ok)
	ok, after := b.Take()
	require.False(t, ok)
	assert.Equal(t, 250*time.Millisecond, after)
	clk.advance(after)
	ok, _ = b.Take()
	assert.True(t, ok)
	assert.False(t, b.AllowN(2))
}

func TestTokenBucketWait(t *testing.T) {
	b, _ := NewTokenBucket(200, 1) // one token per 5ms
	ctx := context.Background()
	start := time.Now()
	for range 5 {
		require.NoError(t, b.Wait(ctx))
	}
	assert.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond, "4 waits of 5ms after the burst")

	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	slow, _ := NewTokenBucket(0.5, 1)
	require.NoError(t, slow.Wait(short))
	assert.ErrorIs(t, slow.Wait(short), ErrWouldExceedDeadline)

	cctx, ccancel := context.WithCancel(ctx)
	go func() { time.Sleep(5 * time.Millisecond); ccancel() }()
	slow2, _ := NewTokenBucket(0.5, 1)
	slow2.Allow()
	assert.ErrorIs(t, slow2.Wait(cctx), context.Canceled)
	assert.InDelta(t, 0, slow2.Tokens(), 0.1, "a waiter that gave up returns its token")
	assert.ErrorIs(t, slow2.Wait(cctx), context.Canceled, "already-cancelled context")
}

func TestSlidingWindow(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	s, err := NewSlidingWindow(10, time.Second, WithClock(clk.now))
	require.NoError(t, err)
	count := func() int {
		n := 0
		for range 100 {
			if s.Allow() {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 10, count(), "first window")
	clk.advance(time.Second) // prev=10, weight 1
	assert.Equal(t, 0, count(), "whole previous window still overlaps")
	clk.advance(500 * time.Millisecond) // weight .5 → 5 used
	assert.Equal(t, 5, count())
	ok, after := s.Take()
	assert.False(t, ok)
	assert.Equal(t, 100*time.Millisecond, after, "prev weight must fall from .5 to .4")
	clk.advance(5 * time.Second)
	assert.Equal(t, 10, count(), "long idle resets both windows")
}

func TestSlidingWindowRetryAfterIsHonest(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	s, _ := NewSlidingWindow(10, time.Second, WithClock(clk.now))
	for range 10 {
		s.Allow()
	}
	clk.advance(1100 * time.Millisecond) // prev=10 weight .9 → 9, room for 1
	require.True(t, s.Allow())
	ok, after := s.Take()
	require.False(t, ok)
	clk.advance(after)
	ok, _ = s.Take()
	assert.True(t, ok, "allowed once the advertised wait has passed")
}

func TestMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	clk := &clock{t: time.Unix(0, 0)}
	b, _ := NewTokenBucket(0.5, 2, WithClock(clk.now)) // a token every 2s
	r := gin.New()
	r.Use(Middleware(b))
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	codes := []int{}
	var retry string
	for range 3 {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		codes = append(codes, w.Code)
		retry = w.Header().Get("Retry-After")
	}
	assert.Equal(t, []int{200, 200, 429}, codes)
	assert.Equal(t, "2", retry)
}

// BenchmarkAllow runs the two hand-written limiters and x/time/rate side by side, at 1 goroutine
// and at GOMAXPROCS goroutines. The limit is high so the measured path is the admitted one.
func BenchmarkAllow(b *testing.B) {
	impls := []struct {
		name  string
		allow func() func() bool
	}{
		{"impl=tokenbucket", func() func() bool { l, _ := NewTokenBucket(1e12, 1e6); return l.Allow }},
		{"impl=slidingwindow", func() func() bool { l, _ := NewSlidingWindow(1<<62, time.Second); return l.Allow }},
		{"impl=x-time-rate", func() func() bool { l := rate.NewLimiter(rate.Limit(1e12), 1e6); return l.Allow }},
	}
	for _, impl := range impls {
		b.Run(impl.name+"/goroutines=1", func(b *testing.B) {
			allow := impl.allow()
			var denied int
			b.ReportAllocs()
			for b.Loop() {
				if !allow() {
					denied++
				}
			}
			b.ReportMetric(float64(denied), "denied")
		})
		b.Run(impl.name+"/goroutines=parallel", func(b *testing.B) {
			allow := impl.allow()
			var denied atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !allow() {
						denied.Add(1)
					}
				}
			})
			b.ReportMetric(float64(denied.Load()), "denied")
		})
	}
}
