package breaker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errDep = errors.New("dependency failed")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"ratio above one":   {FailureRatio: 1.5},
		"negative window":   {Window: -time.Second},
		"negative min":      {MinRequests: -1},
		"window too short":  {Window: 5, Buckets: 10},
		"negative slow":     {SlowCall: -1},
		"slow ratio over 1": {SlowRatio: 2},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			assert.Error(t, err)
		})
	}
}

// outcome is one call: its error and how long it took.
type outcome struct {
	err  error
	took time.Duration
}

func TestTransitions(t *testing.T) {
	ok := outcome{nil, time.Millisecond}
	fail := outcome{errDep, time.Millisecond}
	slow := outcome{nil, time.Second}
	tests := []struct {
		name  string
		calls []outcome
		want  State
	}{
		{"healthy stays closed", repeat(ok, 30), Closed},
		{"below min requests stays closed", repeat(fail, 9), Closed},
		{"failure ratio opens", append(repeat(ok, 5), repeat(fail, 5)...), Open},
		{"just under ratio stays closed", append(repeat(ok, 6), repeat(fail, 4)...), Closed},
		{"slow ratio opens", append(repeat(ok, 2), repeat(slow, 8)...), Open},
		{"cancelled is not a failure", repeat(outcome{context.Canceled, time.Millisecond}, 20), Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(0, 0)}
			b, err := New(Config{MinRequests: 10, FailureRatio: 0.5, SlowCall: 100 * time.Millisecond, SlowRatio: 0.8, Now: clk.now})
			require.NoError(t, err)
			for _, c := range tt.calls {
				done, err := b.Allow()
				if err != nil {
					break
				}
				done(c.err, c.took)
			}
			assert.Equal(t, tt.want, b.State())
		})
	}
}

func repeat(o outcome, n int) []outcome {
	out := make([]outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

func TestWindowForgetsOldFailures(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	b, _ := New(Config{Window: time.Second, Buckets: 10, MinRequests: 10, Now: clk.now})
	for range 9 {
		done, _ := b.Allow()
		done(errDep, 0)
	}
	clk.advance(2 * time.Second) // the 9 failures leave the window
	for range 9 {
		done, _ := b.Allow()
		done(nil, 0)
	}
	done, _ := b.Allow()
	done(errDep, 0)
	assert.Equal(t, Closed, b.State(), "1 failure in 10 calls")
}

func TestHalfOpenProbes(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	var changes []string
	b, _ := New(Config{MinRequests: 1, OpenTimeout: time.Second, MaxProbes: 2, Now: clk.now,
		OnStateChange: []func(string, State, State){func(_ string, from, to State) { changes = append(changes, from.String()+">"+to.String()) }}})
	done, _ := b.Allow()
	done(errDep, 0)
	_, err := b.Allow()
	require.ErrorIs(t, err, ErrOpen)

	clk.advance(time.Second)
	p1, err := b.Allow()
	require.NoError(t, err)
	p2, err := b.Allow()
	require.NoError(t, err)
	_, err = b.Allow()
	require.ErrorIs(t, err, ErrTooManyProbes, "probe limit")
	p1(nil, 0)
	p2(errDep, 0) // a failed probe reopens
	assert.Equal(t, Open, b.State())

	clk.advance(time.Second)
	for range 2 {
		p, err := b.Allow()
		require.NoError(t, err)
		p(nil, 0)
	}
	assert.Equal(t, Closed, b.State())
	assert.Equal(t, []string{"closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>closed"}, changes)
}

func TestExecuteAndGauge(t *testing.T) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "breaker_state"}, []string{"name"})
	b, _ := New(Config{Name: "db", MinRequests: 2, OnStateChange: []func(string, State, State){StateGauge(g)}})
	ctx := context.Background()
	for range 2 {
		assert.ErrorIs(t, b.Execute(ctx, func(context.Context) error { return errDep }), errDep)
	}
	called := false
	assert.ErrorIs(t, b.Execute(ctx, func(context.Context) error { called = true; return nil }), ErrOpen)
	assert.False(t, called, "open breaker does not call the dependency")
	assert.Equal(t, float64(Open), testutil.ToFloat64(g.WithLabelValues("db")))
}

func TestConcurrentUse(t *testing.T) {
	b, _ := New(Config{MinRequests: 5, OpenTimeout: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				_ = b.Execute(context.Background(), func(context.Context) error {
					if (i+g)%3 == 0 {
						return errDep
					}
					return nil
				})
			}
		}()
	}
	wg.Wait()
}

// BenchmarkExecute compares the success path with sony/gobreaker in one family, at 1 goroutine
// and at GOMAXPROCS goroutines.
func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	ours, _ := New(Config{Name: "bench"})
	theirs := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"})
	impls := []struct {
		name string
		call func() error
	}{
		{"impl=ours", func() error { return ours.Execute(ctx, func(context.Context) error { return nil }) }},
		{"impl=gobreaker", func() error {
			_, err := theirs.Execute(func() (struct{}, error) { return struct{}{}, nil })
			return err
		}},
	}
	for _, impl := range impls {
		b.Run(impl.name+"/goroutines=1", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := impl.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(impl.name+"/goroutines=parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := impl.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
