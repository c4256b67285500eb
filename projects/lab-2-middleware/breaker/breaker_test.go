package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// TestConcurrentUse hammers one breaker from 8 goroutines whose calls fail
// a third of the time, and checks what must hold whatever the interleaving:
//   - the counts add up: every Execute either ran fn or was refused with
//     ErrOpen or ErrTooManyProbes, and nothing else;
//   - every transition the hooks saw is legal (closed→open, open→half-open,
//     half-open→open, half-open→closed), and they chain: each starts where
//     the previous one ended, from closed;
//   - the state at the end is where the last transition left it.
func TestConcurrentUse(t *testing.T) {
	const maxProbes = 2
	legal := map[[2]State]bool{
		{Closed, Open}: true, {Open, HalfOpen}: true, {HalfOpen, Open}: true, {HalfOpen, Closed}: true,
	}
	var (
		mu          sync.Mutex
		transitions [][2]State
	)
	b, err := New(Config{MinRequests: 5, FailureRatio: 0.3, OpenTimeout: time.Millisecond, MaxProbes: maxProbes,
		OnStateChange: []func(string, State, State){func(_ string, from, to State) {
			mu.Lock()
			transitions = append(transitions, [2]State{from, to})
			mu.Unlock()
		}}})
	require.NoError(t, err)

	var ran, refusedOpen, refusedProbes, other atomic.Int64
	const goroutines, calls = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				err := b.Execute(context.Background(), func(context.Context) error {
					ran.Add(1)
					if (i+g)%3 == 0 {
						return errDep
					}
					return nil
				})
				switch {
				case err == nil, errors.Is(err, errDep):
				case errors.Is(err, ErrOpen):
					refusedOpen.Add(1)
				case errors.Is(err, ErrTooManyProbes):
					refusedProbes.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()

	assert.Equal(t, int64(goroutines*calls), ran.Load()+refusedOpen.Load()+refusedProbes.Load(), "every call ran or was refused")
	assert.Zero(t, other.Load(), "no error but the dependency's and the breaker's own")
	assert.Positive(t, refusedOpen.Load(), "a third of calls failing must open the breaker at least once")

	// State may still move open → half-open by itself when asked; that move
	// is a transition too, recorded by the hook before State returns.
	end := b.State()
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, transitions)
	from := Closed
	for i, tr := range transitions {
		assert.True(t, legal[tr], "transition %d: %s→%s is not legal", i, tr[0], tr[1])
		assert.Equal(t, from, tr[0], "transition %d starts at %s, but the previous one ended at %s", i, tr[0], from)
		from = tr[1]
	}
	assert.Equal(t, end, transitions[len(transitions)-1][1], "the state is where the last transition left it")
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
