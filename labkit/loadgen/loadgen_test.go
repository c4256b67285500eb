package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func noop(context.Context) error { return nil }

// okServer is the trivial handler the rate test runs against.
func okServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func getTarget(t testing.TB, client *http.Client, u string) loadgen.Target {
	t.Helper()
	target, err := loadgen.Get(client, u)
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	return target
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name   string
		cfg    loadgen.Config
		target loadgen.Target
		want   string
	}{
		{"nil target", loadgen.Config{Workers: 1, Duration: time.Second}, nil, "target is nil"},
		{"closed loop without workers", loadgen.Config{Duration: time.Second}, noop, "Workers must be at least 1 in closed loop"},
		{"negative workers", loadgen.Config{Workers: -1, Rate: 10, Duration: time.Second}, noop, "Workers must be between 1 and"},
		{"too many workers", loadgen.Config{Workers: loadgen.MaxWorkers + 1, Duration: time.Second}, noop, "Workers must be between 1 and"},
		{"negative rate", loadgen.Config{Workers: 1, Rate: -5, Duration: time.Second}, noop, "Rate must be 0"},
		{"NaN rate", loadgen.Config{Workers: 1, Rate: math.NaN(), Duration: time.Second}, noop, "Rate must be 0"},
		{"infinite rate", loadgen.Config{Workers: 1, Rate: math.Inf(1), Duration: time.Second}, noop, "Rate must be 0"},
		{"negative duration", loadgen.Config{Workers: 1, Duration: -time.Second}, noop, "Duration must not be negative"},
		{"negative max requests", loadgen.Config{Workers: 1, MaxRequests: -1}, noop, "MaxRequests must not be negative"},
		{"no end", loadgen.Config{Workers: 1}, noop, "set Duration or MaxRequests"},
		{"negative interval", loadgen.Config{Workers: 1, Duration: time.Second, Interval: -1}, noop, "Interval must not be negative"},
		{"negative drain", loadgen.Config{Workers: 1, Duration: time.Second, Drain: -1}, noop, "Drain must not be negative"},
		{"schedule too large", loadgen.Config{Rate: 1e12, Duration: time.Hour}, noop, "schedules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := loadgen.Run(context.Background(), tt.cfg, tt.target)
			require.ErrorIs(t, err, loadgen.ErrConfig)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "config errors are one line")
			assert.Zero(t, res.Requests)
		})
	}
}

func TestClosedLoopCountsEveryRequest(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		max     int64
	}{
		{"one worker", 1, 1000},
		{"four workers", 4, 1000},
		{"more workers than requests", 64, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, failures atomic.Int64
			target := func(context.Context) error {
				if calls.Add(1)%10 == 0 {
					failures.Add(1)
					return errors.New("every tenth call fails")
				}
				return nil
			}
			res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: tt.workers, MaxRequests: tt.max}, target)
			require.NoError(t, err)
			assert.Equal(t, "closed", res.Mode)
			assert.Equal(t, tt.max, calls.Load(), "target calls")
			assert.Equal(t, tt.max, res.Requests)
			assert.Equal(t, failures.Load(), res.Errors)
			assert.Equal(t, map[string]int64{loadgen.KindOther: failures.Load()}, res.ErrorKinds)
			assert.Equal(t, tt.max, res.Histogram().TotalCount(), "every request is in the histogram")
			var inSeries int64
			for _, iv := range res.Series {
				inSeries += iv.Requests
			}
			assert.Equal(t, res.Requests, inSeries, "series adds up to the total")
		})
	}
}

func TestClosedLoopStopsAtDuration(t *testing.T) {
	start := time.Now()
	res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 2, Duration: 300 * time.Millisecond},
		func(context.Context) error { time.Sleep(time.Millisecond); return nil })
	require.NoError(t, err)
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 300*time.Millisecond)
	assert.Less(t, took, 2*time.Second)
	assert.Positive(t, res.Requests)
	assert.InDelta(t, float64(res.Requests)/res.Elapsed.Seconds(), res.Throughput, 1e-6)
	assert.GreaterOrEqual(t, res.Latency.P50, time.Millisecond)
	assert.LessOrEqual(t, res.Latency.P50, res.Latency.P90)
	assert.LessOrEqual(t, res.Latency.P90, res.Latency.P99)
	assert.LessOrEqual(t, res.Latency.P99, res.Latency.P999)
	assert.LessOrEqual(t, res.Latency.P999, res.Latency.Max+res.Latency.Max/1000)
}

// TestOpenLoopHoldsRate is the harness requirement "holds its target rate within 2% at 10k req/s
// on loopback", against a trivial net/http handler in the same process. The 10k req/s case uses
// RawHTTP, the client the CLI uses; the net/http client (HTTP) costs about twice the CPU per
// request, so it is checked at 2k req/s, a rate it holds even when the machine is saturated.
//
// Robustness on a shared 2-core machine: each attempt measures a 2 s window, and slots that fall
// behind during a hiccup are sent as soon as one of the 64 workers is free, so a short stall
// costs nothing. A neighbour that takes the CPUs for a large part of the window can still make
// one attempt miss (the test logs it), so the test makes up to three attempts and fails only if
// none holds the rate. Under -race the detector makes client and server 5–10× slower, and the
// rates are divided by 10: the 10k req/s figure is checked by the plain build
// (`go test -run OpenLoopHoldsRate -v ./loadgen`).
func TestOpenLoopHoldsRate(t *testing.T) {
	const attempts = 3
	slowdown := 1.0
	if raceEnabled {
		slowdown = 10
	}
	srv := okServer(t)
	raw, err := loadgen.NewRawHTTP(srv.URL)
	require.NoError(t, err)
	defer raw.Close()
	tests := []struct {
		name   string
		rate   float64
		target loadgen.Target
	}{
		{"RawHTTP at 10k req/s", 10000 / slowdown, raw.Get},
		{"HTTP with net/http at 2k req/s", 2000 / slowdown, getTarget(t, loadgen.NewHTTPClient(64), srv.URL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res loadgen.Result
			for i := 1; i <= attempts; i++ {
				var err error
				res, err = loadgen.Run(context.Background(), loadgen.Config{Workers: 64, Rate: tt.rate, Duration: 2 * time.Second}, tt.target)
				require.NoError(t, err)
				t.Logf("attempt %d, target %.0f req/s: %v", i, tt.rate, res)
				if math.Abs(res.Throughput-tt.rate) <= 0.02*tt.rate && res.Missed == 0 {
					break
				}
			}
			assert.Equal(t, "open", res.Mode)
			assert.Zero(t, res.Errors, "errors: %v", res.ErrorSamples)
			assert.Zero(t, res.Missed)
			assert.InEpsilon(t, tt.rate, res.Throughput, 0.02, "throughput %.0f req/s", res.Throughput)
			assert.InEpsilon(t, 2*tt.rate, float64(res.Requests), 0.02)
		})
	}
}

// TestOpenLoopShowsStall is the coordinated-omission proof. The server stalls once for 200 ms.
// A closed-loop worker waits politely and records one slow sample among thousands, so p99 looks
// healthy. The open-loop schedule keeps advancing during the stall, so every request that was
// due during it is charged its delay, and p99 shows the stall.
func TestOpenLoopShowsStall(t *testing.T) {
	const stall = 200 * time.Millisecond
	tests := []struct {
		name    string
		cfg     loadgen.Config
		wantP99 func(t *testing.T, p99 time.Duration)
	}{
		{"closed loop hides it", loadgen.Config{Workers: 1, Duration: 2 * time.Second}, func(t *testing.T, p99 time.Duration) {
			assert.Less(t, p99, stall/2)
		}},
		{"open loop shows it", loadgen.Config{Workers: 1, Rate: 1000, Duration: 2 * time.Second}, func(t *testing.T, p99 time.Duration) {
			assert.GreaterOrEqual(t, p99, stall*3/4)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if n.Add(1) == 300 {
					time.Sleep(stall)
				}
				_, _ = w.Write([]byte("ok"))
			}))
			defer srv.Close()
			target := getTarget(t, loadgen.NewHTTPClient(1), srv.URL)
			res, err := loadgen.Run(context.Background(), tt.cfg, target)
			require.NoError(t, err)
			t.Log(res)
			require.GreaterOrEqual(t, n.Load(), int64(300), "the stall happened")
			assert.GreaterOrEqual(t, res.Latency.Max, stall, "both modes see the slow request itself")
			tt.wantP99(t, res.Latency.P99)
		})
	}
}

// TestOpenLoopPauseWithManyWorkers: a stop-the-world pause (every call blocks for 100 ms) with
// more workers than needed. All workers block; the schedule keeps advancing; after the pause
// the backlog is sent at once and every late request carries its delay.
func TestOpenLoopPauseWithManyWorkers(t *testing.T) {
	const pause = 100 * time.Millisecond
	var (
		mu    sync.RWMutex
		calls atomic.Int64
	)
	target := func(context.Context) error {
		if calls.Add(1) == 200 {
			mu.Lock()
			time.Sleep(pause)
			mu.Unlock()
			return nil
		}
		mu.RLock()
		defer mu.RUnlock()
		return nil
	}
	res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 8, Rate: 2000, Duration: time.Second}, target)
	require.NoError(t, err)
	t.Log(res)
	assert.Zero(t, res.Missed)
	// ~200 of 2000 slots fall inside the pause: p90 is at the edge, p99 near the full pause.
	assert.GreaterOrEqual(t, res.Latency.P99, pause/2)
	assert.GreaterOrEqual(t, res.Quantile(0.95), pause/4)
}

func TestOpenLoopMissedWhenWorkersTooFew(t *testing.T) {
	// One worker, 100 req/s, each call 50 ms: at most 20 req/s get through. The window and the
	// drain together last 600 ms, so about 12 of the 50 scheduled slots are sent and the rest
	// are reported as missed.
	res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 1, Rate: 100, Duration: 500 * time.Millisecond, Drain: 100 * time.Millisecond},
		func(context.Context) error { time.Sleep(50 * time.Millisecond); return nil })
	require.NoError(t, err)
	t.Log(res)
	assert.Equal(t, int64(50), res.Requests+res.Missed)
	assert.Positive(t, res.Missed)
	assert.GreaterOrEqual(t, res.Latency.Max, 200*time.Millisecond, "late slots carry their queueing delay")
}

func TestOpenLoopMaxRequests(t *testing.T) {
	var calls atomic.Int64
	res, err := loadgen.Run(context.Background(), loadgen.Config{Rate: 1000, MaxRequests: 100},
		func(context.Context) error { calls.Add(1); return nil })
	require.NoError(t, err)
	assert.Equal(t, int64(100), res.Requests)
	assert.Equal(t, int64(100), calls.Load())
	assert.Zero(t, res.Missed)
	assert.GreaterOrEqual(t, res.Elapsed, 99*time.Millisecond, "100 slots at 1000/s span 100 ms")
	assert.Less(t, res.Elapsed, 2*time.Second)
}

func TestRunStopsPromptlyOnCancel(t *testing.T) {
	blocking := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name   string
		cfg    loadgen.Config
		target loadgen.Target
	}{
		{"closed loop, target blocked", loadgen.Config{Workers: 8, Duration: time.Minute}, blocking},
		{"closed loop, busy target", loadgen.Config{Workers: 8, Duration: time.Minute}, noop},
		{"open loop, workers waiting for slots", loadgen.Config{Workers: 8, Rate: 0.5, Duration: time.Minute}, noop},
		{"open loop, target blocked", loadgen.Config{Workers: 8, Rate: 1000, Duration: time.Minute}, blocking},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			res, err := loadgen.Run(ctx, tt.cfg, tt.target)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 2*time.Second, "stops promptly")
			assert.Zero(t, res.Errors, "requests aborted by the caller are not failures")
			assert.Zero(t, res.Missed)
		})
	}
}

func TestRunWithCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := loadgen.Run(ctx, loadgen.Config{Workers: 1, Duration: time.Second}, noop)
	require.ErrorIs(t, err, context.Canceled)
}

func TestDrainCutsOffHungRequests(t *testing.T) {
	start := time.Now()
	res, err := loadgen.Run(context.Background(),
		loadgen.Config{Workers: 3, Duration: 100 * time.Millisecond, Drain: 100 * time.Millisecond},
		func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, int64(3), res.Requests)
	assert.Equal(t, map[string]int64{loadgen.KindTimeout: 3}, res.ErrorKinds)
	// Held until the drain deadline (window + drain = 200 ms after Run began),
	// not cut when the window closed at 100 ms. A worker that started a few
	// milliseconds after Run did reads a little under 200 ms.
	assert.Greater(t, res.Latency.P50, 150*time.Millisecond)
}

func TestOnIntervalStreamsCounts(t *testing.T) {
	var (
		mu  sync.Mutex
		got []loadgen.Interval
	)
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Workers: 2, Duration: 350 * time.Millisecond, Interval: 100 * time.Millisecond,
		OnInterval: func(iv loadgen.Interval) { mu.Lock(); got = append(got, iv); mu.Unlock() },
	}, func(context.Context) error { time.Sleep(time.Millisecond); return nil })
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, res.Series, got, "the callback saw exactly the series")
	assert.GreaterOrEqual(t, len(got), 2)
	var sum int64
	for i, iv := range got {
		sum += iv.Requests
		if i > 0 {
			assert.Equal(t, got[i-1].Start+got[i-1].Length, iv.Start, "intervals are contiguous")
		}
	}
	assert.Equal(t, res.Requests, sum)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"deadline", context.DeadlineExceeded, loadgen.KindTimeout},
		{"os deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), loadgen.KindTimeout},
		{"canceled", context.Canceled, loadgen.KindCanceled},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, loadgen.KindConnectionReset},
		{"refused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, loadgen.KindConnectionRefused},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), loadgen.KindBrokenPipe},
		{"EOF", &url.Error{Op: "Get", URL: "http://x", Err: io.EOF}, loadgen.KindEOF},
		{"unexpected EOF", io.ErrUnexpectedEOF, loadgen.KindEOF},
		{"503", &loadgen.StatusError{Code: 503}, loadgen.KindStatus5xx},
		{"429", fmt.Errorf("wrapped: %w", &loadgen.StatusError{Code: 429}), loadgen.KindStatus4xx},
		{"malformed", fmt.Errorf("read: %w", loadgen.ErrMalformedResponse), loadgen.KindMalformed},
		{"own kind", &loadgen.KindError{K: "cache miss storm", Err: errors.New("x")}, "cache miss storm"},
		{"other", errors.New("boom"), loadgen.KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, loadgen.Classify(tt.err))
		})
	}
}

// TestHTTPErrorKinds provokes each failure for real on loopback and checks the kind Run reports.
func TestHTTPErrorKinds(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) string // returns the URL
		client *http.Client
		want   string
	}{
		{"status 5xx", func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "down", http.StatusServiceUnavailable)
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, loadgen.NewHTTPClient(1), loadgen.KindStatus5xx},
		{"status 4xx", func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return srv.URL
		}, loadgen.NewHTTPClient(1), loadgen.KindStatus4xx},
		{"connection refused", func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close())
			return "http://" + addr + "/"
		}, loadgen.NewHTTPClient(1), loadgen.KindConnectionRefused},
		{"EOF: server closes without answering", func(t *testing.T) string {
			return rawServer(t, func(c net.Conn) { buf := make([]byte, 4096); _, _ = c.Read(buf); _ = c.Close() })
		}, loadgen.NewHTTPClient(1), loadgen.KindEOF},
		{"connection reset", func(t *testing.T) string {
			return rawServer(t, func(c net.Conn) {
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_ = c.(*net.TCPConn).SetLinger(0) // close with RST
				_ = c.Close()
			})
		}, loadgen.NewHTTPClient(1), loadgen.KindConnectionReset},
		{"timeout", func(t *testing.T) string {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(func() { close(release); srv.Close() })
			return srv.URL
		}, func() *http.Client { c := loadgen.NewHTTPClient(1); c.Timeout = 20 * time.Millisecond; return c }(), loadgen.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := getTarget(t, tt.client, tt.server(t))
			res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 1, MaxRequests: 3}, target)
			require.NoError(t, err)
			assert.Equal(t, int64(3), res.Requests)
			assert.Equal(t, map[string]int64{tt.want: 3}, res.ErrorKinds, "samples: %v", res.ErrorSamples)
			assert.NotEmpty(t, res.ErrorSamples[tt.want])
		})
	}
}

// rawServer accepts TCP connections and hands each to handle, for failures net/http will not
// produce on purpose.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return "http://" + ln.Addr().String() + "/"
}

func TestGetRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "://nope", "ftp://host/", "http://"} {
		t.Run(u, func(t *testing.T) {
			_, err := loadgen.Get(http.DefaultClient, u)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "bad url")
		})
	}
}

func TestHTTPBadRequestBuilder(t *testing.T) {
	target := loadgen.HTTP(http.DefaultClient, func(context.Context) (*http.Request, error) {
		return nil, errors.New("no request")
	})
	res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 1, MaxRequests: 2}, target)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{loadgen.KindBadRequest: 2}, res.ErrorKinds)
}

// BenchmarkRunClosedLoop measures the generator's own cost per request: a no-op target, so
// everything timed is scheduling, clock reads and histogram recording.
func BenchmarkRunClosedLoop(b *testing.B) {
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: workers, MaxRequests: int64(b.N)}, noop)
			require.NoError(b, err)
			require.Equal(b, int64(b.N), res.Requests)
		})
	}
}

// BenchmarkRunOpenLoop: the same, in open loop at a rate no machine reaches, so every slot is
// overdue and the cost is the scheduler's.
func BenchmarkRunOpenLoop(b *testing.B) {
	b.ReportAllocs()
	res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 8, Rate: 1e8, Duration: 1000 * time.Second, MaxRequests: int64(b.N)}, noop)
	require.NoError(b, err)
	require.Equal(b, int64(b.N), res.Requests)
}
