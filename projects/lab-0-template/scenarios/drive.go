package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/quantile"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/slowloris"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/config"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/server"
)

// start builds and starts a server on a free loopback port and returns the
// function that stops it (the path SIGTERM takes in cmd/server).
func start(ctx context.Context, env *runner.Env, tune func(*config.Config)) (*server.Server, func() error, error) {
	return startWith(ctx, env, env.Metrics, "access.log", tune)
}

func startWith(ctx context.Context, env *runner.Env, reg prometheus.Registerer, accessLog string,
	tune func(*config.Config)) (*server.Server, func() error, error) {
	cfg := config.Default()
	cfg.Addr, cfg.DebugAddr = "127.0.0.1:0", "" // the runner serves pprof and /metrics
	cfg.AccessLog = filepath.Join(env.Dir, accessLog)
	tune(&cfg)
	srv, err := server.New(cfg, server.Deps{Log: env.Log, Metrics: reg, Tracer: env.Tracer})
	if err != nil {
		return nil, nil, err
	}
	if err := srv.Listen(ctx); err != nil {
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	stop := func() error {
		cancel()
		return <-done
	}
	return srv, stop, nil
}

func request(method, url string) func(ctx context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, method, url, nil)
	}
}

// The sync-logging scenario's load and its log shipper. At this rate the
// access log is about twice what the shipper forwards (the report records
// both, as offered_log_bytes_per_sec and shipper_bytes_per_sec), so a sink
// that waits for the shipper caps the service at half the offered load.
const (
	syncLogRate    = 1000      // requests per second, open loop
	syncLogWorkers = 512       // bound on requests in flight
	shipperRate    = 128 << 10 // bytes per second the shipper forwards
)

// runSyncLogging offers cheap requests at a constant rate (open loop: users
// do not wait for the server to be ready). Each request writes one
// access-log line into a pipe read by a log shipper that forwards about
// half of what the service writes, so the log's downstream is the only
// shared resource that cannot keep up. With the fault, each line is written
// under the sink's lock and the pipe's back-pressure reaches every request:
// throughput falls to what the shipper takes, and the queue, and the
// latency, grow all window long. The fixed path serves the whole rate, and
// drops (and counts) the lines the shipper cannot take.
func runSyncLogging(ctx context.Context, env *runner.Env) error {
	pipe := filepath.Join(env.Dir, "access.pipe")
	sh, err := startShipper(pipe, filepath.Join(env.Dir, "access.log"), shipperRate)
	if err != nil {
		return err
	}
	srv, stop, err := start(ctx, env, func(c *config.Config) {
		c.Faults.SyncLogging = env.FaultOn
		c.AccessLog = pipe
	})
	if err != nil {
		return err
	}
	env.Cleanup(func() {
		_ = stop() // closes the pipe: the shipper forwards the rest and ends
		if err := sh.wait(); err != nil {
			env.Log.Error("log shipper: " + err.Error())
		}
	})

	client := loadgen.NewHTTPClient(syncLogWorkers)
	defer client.CloseIdleConnections()
	var served atomic.Int64
	env.Series("requests_completed_per_tick", func() float64 { return float64(served.Swap(0)) })
	env.Series("log_bytes_shipped", func() float64 { return float64(sh.shipped.Load()) })

	waitBefore := mutexWait()
	res, err := loadgen.Run(ctx, loadgen.Config{Workers: syncLogWorkers, Rate: syncLogRate, Duration: env.Duration,
		OnInterval: func(iv loadgen.Interval) { served.Add(iv.Requests) }},
		loadgen.HTTP(client, request(http.MethodGet, "http://"+srv.Addr()+"/api/v1/items/42")))
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	elapsed := res.Elapsed.Seconds()
	env.Record("offered_rps", syncLogRate)
	env.Record("p99_ms", ms(res.Latency.P99))
	env.Record("p50_ms", ms(res.Latency.P50))
	env.Record("throughput_rps", res.Throughput)
	env.Record("errors", float64(res.Errors))
	env.Record("missed_slots", float64(res.Missed))
	env.Record("shipper_bytes_per_sec", shipperRate)
	if size, err := meanLineBytes(filepath.Join(env.Dir, "access.log")); err == nil && size > 0 {
		// What the service writes at the offered rate, from the size of the
		// lines the shipper has forwarded so far.
		env.Record("access_log_line_bytes", size)
		env.Record("offered_log_bytes_per_sec", size*syncLogRate)
	}
	dropped, err := env.Metric("lab0_access_log_dropped_lines_total")
	if err != nil {
		return err
	}
	env.Record("access_log_lines_dropped", dropped.GetCounter().GetValue())
	m, err := env.Metric("lab0_access_log_write_seconds")
	if err != nil {
		return err
	}
	h := m.GetHistogram()
	// The median, as histogram_quantile(0.5, ...) in the alert rule computes
	// it: a starved CPU drags the mean up with outliers, while waiting for a
	// shipper that is behind puts a floor under the median.
	env.Record("access_log_write_p50_ms", 1000*quantile.Histogram(h, 0.5))
	if h.GetSampleCount() > 0 {
		env.Record("access_log_write_mean_ms", 1000*h.GetSampleSum()/float64(h.GetSampleCount()))
	}
	// runtime/metrics keeps a running total of time goroutines spent blocked
	// on sync.Mutex and RWMutex: the lock's cost, independent of sampling.
	env.Record("mutex_wait_seconds_per_second", (mutexWait()-waitBefore)/elapsed)
	return nil
}

// runSlowClients points 400 slowloris connections at the server.
func runSlowClients(ctx context.Context, env *runner.Env) error {
	srv, stop, err := start(ctx, env, func(c *config.Config) {
		c.Faults.NoServerTimeouts = env.FaultOn
		// Short enough to act inside the lab's window.
		c.ReadHeaderTimeout, c.MaxConns = 300*time.Millisecond, 100
	})
	if err != nil {
		return err
	}
	env.Cleanup(func() { _ = stop() })

	before := runtime.NumGoroutine()
	env.Series("goroutines_over_baseline", func() float64 { return float64(runtime.NumGoroutine() - before) })
	// Half a second of quiet first, so the chart shows the rise.
	select {
	case <-time.After(500 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	// The attack must outlive Run (which ends when the window does) so the
	// goroutine profile, taken after Run returns, still sees it.
	attack, err := slowloris.Start(context.WithoutCancel(ctx), slowloris.Config{Addr: srv.Addr(), Conns: 400, Drip: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	env.Cleanup(attack.Stop) // after the goroutine profile: the stuck connections must be in it
	env.Series("attacker_connections_open", func() float64 { return float64(attack.Open()) })

	// Real users arrive meanwhile, each on a new connection as a new visitor
	// does (a kept-alive one was accepted before the attack and would not
	// feel the connection cap), and give up after a second.
	users := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	res, err := loadgen.Run(ctx, loadgen.Config{Workers: 2, Duration: env.Duration},
		loadgen.HTTP(users, request(http.MethodGet, "http://"+srv.Addr()+"/api/v1/items/42")))
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	open, err := env.Metric("lab0_http_open_connections")
	if err != nil {
		return err
	}
	env.Record("open_connections", open.GetGauge().GetValue())
	env.Record("goroutine_growth", float64(runtime.NumGoroutine()-before))
	env.Record("attacker_connections_open", float64(attack.Open()))
	return nil
}

// runRestart is a rolling restart under load: 32 workers call an endpoint
// whose dependency takes 200ms; halfway through the window a new instance
// binds the same port (SO_REUSEPORT) and the old one receives the stop its
// SIGTERM handler triggers. Every request the old instance accepted must
// still succeed; new ones go to the new instance.
func runRestart(ctx context.Context, env *runner.Env) error {
	tune := func(c *config.Config) {
		c.Faults.NoGracefulShutdown = env.FaultOn
		c.DownstreamLatency = 200 * time.Millisecond
		c.ReusePort = true
	}
	srv, stop, err := start(ctx, env, tune)
	if err != nil {
		return err
	}
	const workers = 32
	client := loadgen.NewHTTPClient(workers)
	defer client.CloseIdleConnections()

	var stoppedAt atomic.Int64 // unix nanos; 0 while serving
	var dropped atomic.Int64
	// POST: Go's client transparently retries an idempotent GET that dies on
	// a reused connection, which would hide the drop from the client (the
	// work would still have been cut off and repeated).
	target := loadgen.HTTP(client, request(http.MethodPost, "http://"+srv.Addr()+"/api/v1/work"))
	restartAware := func(ctx context.Context) error {
		started := time.Now().UnixNano()
		err := target(ctx)
		if s := stoppedAt.Load(); err != nil && s != 0 && started < s {
			// The request was accepted before the stop began: a request a
			// restart must not lose.
			dropped.Add(1)
		}
		return err
	}
	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		res, _ := loadgen.Run(loadCtx, loadgen.Config{Workers: workers, Duration: env.Duration}, restartAware)
		env.Traffic().Add(res)
	}()

	select {
	case <-time.After(env.Duration / 2):
	case <-ctx.Done():
		return ctx.Err()
	}
	// The new instance is another process in production: its own metrics
	// registry and access log.
	_, stopNew, err := startWith(ctx, env, prometheus.NewRegistry(), "access-new.log", func(c *config.Config) {
		tune(c)
		c.Addr = srv.Addr()
	})
	if err != nil {
		return fmt.Errorf("start the new instance: %w", err)
	}
	env.Cleanup(func() { _ = stopNew() })
	env.Record("in_flight_at_stop", float64(srv.InFlight()))
	stoppedAt.Store(time.Now().UnixNano())
	stopErr := stop()
	<-loadDone
	aborted, err := env.Metric("lab0_http_shutdown_aborted_requests_total")
	failed, ferr := countServerErrors(filepath.Join(env.Dir, "access.log"))
	// Client-side failures also include a race no server can close alone: a
	// POST written onto an idle keep-alive connection just as Shutdown closes
	// it. It is recorded, not judged; the checks read the server's side.
	env.Record("dropped_in_flight_requests", float64(dropped.Load()))
	env.Record("aborted_requests_metric", aborted.GetCounter().GetValue())
	env.Record("old_instance_5xx", float64(failed))
	return errors.Join(stopErr, err, ferr)
}

// meanLineBytes is the mean length of the lines in the file at path, newline
// included.
func meanLineBytes(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("mean line length: %w", err) // err names the path
	}
	lines := bytes.Count(b, []byte("\n"))
	if lines == 0 {
		return 0, nil
	}
	return float64(bytes.LastIndexByte(b, '\n')+1) / float64(lines), nil
}

// countServerErrors counts the 5xx lines of an access log: on the fault path
// the handlers whose connection was closed under them see their context
// cancelled and answer 502 to nobody.
func countServerErrors(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read access log: %w", err)
	}
	// Read-only: a Close error cannot lose data, and the scan's error below
	// is the one that matters.
	defer func() { _ = f.Close() }()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Status int `json:"status"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Status >= 500 {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("read access log %s: %w", path, err)
	}
	return n, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mutexWait() float64 {
	s := []metrics.Sample{{Name: "/sync/mutex/wait/total:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}
