package scenarios

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/fetch"
)

// runLeak sends 200 requests/s at a handler with a 5 ms timeout whose backend answers in
// 0..10 ms, so about half the requests time out.
func runLeak(ctx context.Context, env *runner.Env) error {
	const timeout, maxLatency = 5 * time.Millisecond, 10 * time.Millisecond
	backend := fetch.SlowBackend(func(key string) time.Duration {
		n, _ := strconv.ParseUint(key, 10, 64)
		return time.Duration(mix(env.Seed, n) % uint64(maxLatency))
	})
	h, err := fetch.New(backend, timeout, env.FaultOn)
	if err != nil {
		return err
	}
	var ok, timedOut atomic.Int64
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lab1_fetch_requests_total",
		Help: "Lookups served by the fetch handler, by outcome."}, []string{"outcome"})
	if err := telemetry.Register(env.Metrics, requests, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lab1_fetch_workers_active", Help: "Fetch worker goroutines started and not yet finished.",
	}, func() float64 { return float64(h.Workers.Load()) })); err != nil {
		return err
	}
	env.Series("fetch_workers_active", func() float64 { return float64(h.Workers.Load()) })

	before := runtime.NumGoroutine()
	var n atomic.Uint64
	res, err := loadgen.Run(ctx, loadgen.Config{Rate: 200, Workers: 64, Duration: env.Duration},
		func(ctx context.Context) error {
			_, err := h.Serve(ctx, strconv.FormatUint(n.Add(1), 10))
			switch {
			case errors.Is(err, fetch.ErrTimeout):
				timedOut.Add(1)
				requests.WithLabelValues("timeout").Inc()
			case err == nil:
				ok.Add(1)
				requests.WithLabelValues("ok").Inc()
			}
			return err
		})
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	// A fixed worker sees its context end with the handler and exits within a timer tick; a
	// leaked one never will. Wait until the worker count stops falling (at most a second), so
	// only workers that will never finish are counted.
	last, quiet, deadline := h.Workers.Load(), 0, time.Now().Add(time.Second)
	for last > 0 && quiet < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if n := h.Workers.Load(); n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
	leaked := runtime.NumGoroutine() - before
	env.Record("leaked_goroutines", float64(leaked))
	env.Record("requests", float64(res.Requests))
	env.Record("timeouts", float64(timedOut.Load()))
	env.Record("workers_active", float64(h.Workers.Load()))
	// Neutral on purpose: a mystery run shows lab.log, and a message or
	// field named after the fault or its symptom would give the answer away.
	env.Log.Info("load window done", zap.Int64("requests", res.Requests))
	return nil
}
