// Package scenarios is lab 2's faults as labkit scenarios: two cache failures (breakdown and
// avalanche), a queue backlog and a retry storm, each a real defect in this lab's own packages,
// switched off by the fix a senior engineer would make.
package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/quantile"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/breaker"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/depclient"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/jobqueue"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/readthrough"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/store"
)

type evidenceKind = evidence.Kind

// Lab is lab 2, mini middleware.
func Lab() runner.Lab {
	return runner.Lab{
		Number:    2,
		Title:     "Mini middleware",
		Window:    3 * time.Second,
		Preflight: preflight,
		Scenarios: []runner.Scenario{
			cacheBreakdown(),
			cacheAvalanche(),
			queueBacklog(),
			retryStorm(),
		},
	}
}

// gauge registers a GaugeFunc on the scenario's registry.
func gauge(env *runner.Env, name, help string, f func() float64) {
	env.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// counter registers a CounterFunc (f must never decrease) on the scenario's registry.
func counter(env *runner.Env, name, help string, f func() float64) {
	env.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// Breakdown: a hot key read 10000 times a second, a short TTL, an expensive query behind it.
const (
	breakdownRate    = 10000
	breakdownReaders = 300 // bound on reads in flight
	breakdownTTL     = 200 * time.Millisecond
	breakdownConns   = 8
	breakdownService = 20 * time.Millisecond // an expensive query: the reason the key is cached
	hotKey           = "product:42"
)

func cacheBreakdown() runner.Scenario {
	return runner.Scenario{
		Fault:       "cache-breakdown",
		Description: "a hot key expires and every concurrent reader that misses calls the store itself",
		Symptom:     "store calls for the hot key jump to about one per reader at every expiry; store latency spikes",
		Tool:        "go tool pprof -top -cum {dir}/goroutine.pprof",
		Culprit:     runner.Culprit{Func: "readthrough.(*Cache).miss", Evidence: evidence.Goroutine},
		Checks: []runner.Check{
			{Metric: "hot_key_store_calls_per_expiry", Op: runner.Above, Threshold: 10, Unit: "calls"},
		},
		Run: func(ctx context.Context, env *runner.Env) error {
			db, err := newBackend(ctx, env, breakdownConns, breakdownService)
			if err != nil {
				return err
			}
			defer db.Close()
			meter := store.NewMeter(db, 10*time.Millisecond)
			cfg := readthrough.Config{Capacity: 1024, TTL: breakdownTTL, Seed: env.Seed}
			if !env.FaultOn {
				cfg.Coalesce = true    // one load per key at a time
				cfg.RefreshAhead = 0.2 // reload in the background in the last 20% of the TTL
			}
			cache, err := readthrough.New(meter, cfg)
			if err != nil {
				return err
			}
			defer cache.Close()
			if _, err := cache.Get(ctx, hotKey); err != nil { // warm: count only expiry-driven loads
				return err
			}
			meter.Reset()
			env.Series("store_pending", func() float64 { return float64(meter.Pending()) })
			env.Series("hot_key_store_calls", func() float64 { return float64(meter.KeyCalls(hotKey)) })
			gauge(env, "lab2_store_pending_calls", "Calls queued or running in the backing store.", func() float64 { return float64(meter.Pending()) })
			counter(env, "lab2_hot_key_store_calls_total", "Store calls for the hot key.", func() float64 { return float64(meter.KeyCalls(hotKey)) })

			stop := snapshotWhen(ctx, env, evidence.Goroutine, 0.6, func() bool { return meter.Pending() > 100 })
			res, err := loadgen.Run(ctx, loadgen.Config{Rate: breakdownRate, Workers: breakdownReaders, Duration: env.Duration},
				func(ctx context.Context) error { _, err := cache.Get(ctx, hotKey); return err })
			stop()
			if err != nil {
				return err
			}
			env.Traffic().Add(res)
			// An "expiry" is the moment the hot value is replaced: readers finding it expired, or
			// (fixed path) a refresh-ahead reloading it before it expires.
			calls := meter.KeyCalls(hotKey)
			expiries := cache.Expirations() + cache.Refreshes()
			perExpiry := float64(calls) / float64(max(expiries, 1))
			env.Record("hot_key_store_calls_per_expiry", perExpiry)
			env.Record("hot_key_store_calls", float64(calls))
			env.Record("expiries", float64(expiries))
			env.Record("read_p999_ms", float64(res.Latency.P999)/1e6)
			env.Log.Info(fmt.Sprintf("hot key: %d store calls for %d expirations + %d refreshes in %v: %.1f per expiry; %d reads, p99.9 %v",
				calls, cache.Expirations(), cache.Refreshes(), res.Elapsed, perExpiry, res.Requests, res.Latency.P999))
			gauge(env, "lab2_hot_key_store_calls_per_expiry", "Store calls for the hot key per expiry (or refresh) over the run.", func() float64 { return perExpiry })
			return nil
		},
	}
}

// Avalanche: many keys loaded together, one TTL, read 20000 times a second in all.
const (
	avalancheKeys    = 500
	avalancheRate    = 20000
	avalancheReaders = 16 // bound on reads in flight
	avalancheTTL     = time.Second
	avalancheConns   = 32
	avalancheService = time.Millisecond
	avalancheBucket  = 50 * time.Millisecond
)

func cacheAvalanche() runner.Scenario {
	return runner.Scenario{
		Fault:       "cache-avalanche",
		Description: "keys loaded together with the same TTL all expire in the same instant",
		Symptom:     "the store's peak QPS is many times its mean: one burst of the whole key set every TTL",
		Tool:        "go tool pprof -top -cum {dir}/goroutine.pprof",
		Culprit: runner.Culprit{Func: "readthrough.(*Cache).ttl", Frame: "readthrough.(*Cache).load",
			Evidence: evidence.Goroutine},
		Checks: []runner.Check{
			{Metric: "store_peak_to_mean_qps", Op: runner.Above, Threshold: 8, Unit: "x"},
		},
		Run: func(ctx context.Context, env *runner.Env) error {
			db, err := newBackend(ctx, env, avalancheConns, avalancheService)
			if err != nil {
				return err
			}
			defer db.Close()
			meter := store.NewMeter(db, avalancheBucket)
			cfg := readthrough.Config{Capacity: 2 * avalancheKeys, TTL: avalancheTTL, Coalesce: true, Seed: env.Seed}
			if !env.FaultOn {
				cfg.Jitter = 0.5 // each entry lives between 50% and 100% of the TTL
			}
			cache, err := readthrough.New(meter, cfg)
			if err != nil {
				return err
			}
			defer cache.Close()
			keys := make([]string, avalancheKeys)
			for i := range keys {
				keys[i] = fmt.Sprintf("sku:%04d", i)
			}
			// Warm the cache the way a deploy or a cache flush does: every key at once.
			if err := preload(ctx, cache, keys, avalancheConns); err != nil {
				return err
			}
			meter.Reset()
			start := time.Now()
			env.Series("store_pending", func() float64 { return float64(meter.Pending()) })
			env.Series("store_calls", func() float64 { return float64(meter.Calls()) })
			gauge(env, "lab2_store_pending_calls", "Calls queued or running in the backing store.", func() float64 { return float64(meter.Pending()) })

			// The first burst comes one TTL after the preload; fall back late, after it.
			stop := snapshotWhen(ctx, env, evidence.Goroutine, 0.9, func() bool { return meter.Pending() >= avalancheReaders*3/4 })
			res, err := loadgen.Run(ctx, loadgen.Config{Rate: avalancheRate, Workers: avalancheReaders, Duration: env.Duration},
				func(ctx context.Context) error { _, err := cache.Get(ctx, keys[rand.IntN(len(keys))]); return err })
			stop()
			if err != nil {
				return err
			}
			env.Traffic().Add(res)
			peak, mean := meter.QPS(start.Add(res.Elapsed))
			ratio := peak / max(mean, 1)
			env.Record("store_peak_to_mean_qps", ratio)
			env.Record("store_peak_qps", peak)
			env.Record("store_mean_qps", mean)
			env.Log.Info(fmt.Sprintf("store QPS in %v buckets: peak %.0f, mean %.0f, ratio %.1f; %d reads",
				avalancheBucket, peak, mean, ratio, res.Requests))
			gauge(env, "lab2_store_peak_to_mean_qps", "Peak store QPS (50ms buckets) divided by the mean over the run.", func() float64 { return ratio })
			return nil
		},
	}
}

func preload(ctx context.Context, c *readthrough.Cache, keys []string, workers int) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := atomic.Int64{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(keys)); i = next.Add(1) - 1 {
				if _, err := c.Get(ctx, keys[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Backlog: producers far above the workers' capacity (4 workers x 1 ms: 4,000/s at best).
const (
	backlogWorkers = 4
	backlogService = time.Millisecond
	backlogRate    = 8000 // messages per second offered
	backlogAdmit   = 1000 // below what the workers serve: 9,955 messages in `make lab-2 fault=on`'s 3 s window
	backlogQueue   = 16
	payloadSize    = 4 << 10
)

func queueBacklog() runner.Scenario {
	return runner.Scenario{
		Fault:       "queue-backlog",
		Description: "an unbounded queue accepts messages faster than its workers can process them",
		Symptom:     "queue length, heap and p99 wait grow for as long as the overload lasts",
		Tool:        "go tool pprof -top -sample_index=inuse_space {dir}/heap.pprof",
		Culprit:     runner.Culprit{Func: "jobqueue.(*Unbounded).Push", Evidence: evidence.Heap},
		Checks: []runner.Check{
			{Metric: "queue_length_max", Op: runner.Above, Threshold: 500, Unit: "messages"},
			{Metric: "wait_p99_ms", Op: runner.Above, Threshold: 200, Unit: "ms"},
		},
		Run: func(ctx context.Context, env *runner.Env) error {
			db, err := newBackend(ctx, env, backlogWorkers, backlogService)
			if err != nil {
				return err
			}
			defer db.Close()
			var (
				mu    sync.Mutex
				waits []time.Duration
			)
			cfg := jobqueue.Config{
				Workers: backlogWorkers, Unbounded: env.FaultOn, QueueSize: backlogQueue, AdmitRate: backlogAdmit,
				OnDone: func(w time.Duration, _ error) { mu.Lock(); waits = append(waits, w); mu.Unlock() },
			}
			q, err := jobqueue.New(cfg, func(ctx context.Context, payload []byte) error {
				_, err := db.Get(ctx, fmt.Sprintf("order:%d", len(payload)))
				return err
			})
			if err != nil {
				return err
			}
			env.Cleanup(q.Close) // the backlog stays alive until the heap profile is taken

			var maxLen atomic.Int64
			sample := func() float64 {
				n := int64(q.Len())
				for m := maxLen.Load(); n > m && !maxLen.CompareAndSwap(m, n); m = maxLen.Load() {
				}
				return float64(n)
			}
			env.Series("queue_length", sample)
			env.Series("oldest_wait_ms", func() float64 { return float64(q.OldestWait()) / 1e6 })
			gauge(env, "lab2_queue_length", "Messages waiting in the job queue.", sample)
			counter(env, "lab2_queue_shed_total", "Messages refused by admission or a full queue.", func() float64 { return float64(q.Shed()) })

			payload := make([]byte, payloadSize)
			res, err := loadgen.Run(ctx, loadgen.Config{Rate: backlogRate, Workers: 16, Duration: env.Duration},
				func(context.Context) error {
					sample()
					if err := q.Enqueue(payload); err != nil && !errors.Is(err, jobqueue.ErrOverloaded) {
						return err
					}
					return nil
				})
			if err != nil {
				return err
			}
			env.Traffic().Add(res)
			sample()
			mu.Lock()
			w := slices.Clone(waits)
			mu.Unlock()
			p99 := quantile.Durations(w, 0.99)
			env.Record("queue_length_max", float64(maxLen.Load()))
			env.Record("wait_p99_ms", float64(p99)/1e6)
			env.Record("processed", float64(len(w)))
			env.Record("shed", float64(q.Shed()))
			env.Log.Info(fmt.Sprintf("offered %d at %d/s; processed %d, shed %d, max queue %d, p99 wait %v, queue now %d",
				res.Requests, backlogRate, len(w), q.Shed(), maxLen.Load(), p99, q.Len()))
			gauge(env, "lab2_queue_wait_p99_seconds", "p99 time from enqueue to processed over the run.", func() float64 { return p99.Seconds() })
			// Heap as it stands at the end of the overload, before Cleanup releases the queue.
			return env.Snapshot(evidence.Heap)
		},
	}
}

// Retry storm: a dependency with finite capacity at half load, a brief stall, clients that retry.
//
// The dependency serves stormServerWorkers requests at a time for stormService each: a capacity of
// 2,000 requests/s against 1,000 offered. A stormStall-long stall fills its queue; every attempt
// queued behind it times out after stormAttemptTimeout, and the clients on the fault path retry each
// timeout at once, up to stormAttempts. Four attempts per request is 4,000 arrivals/s against a
// capacity of 2,000: the queue stays full of requests whose callers have already left, so every
// attempt keeps timing out after the stall is over (a metastable failure). Without the retries the
// same stall drains in a few tens of milliseconds.
const (
	stormRate           = 1000 // requests per second offered, half the dependency's capacity
	stormWorkers        = 128  // bound on requests in flight: the clients' connections
	stormServerWorkers  = 4
	stormService        = 2 * time.Millisecond
	stormQueue          = 1024 // a full queue is half a second of work: far past any attempt's timeout
	stormAttemptTimeout = 50 * time.Millisecond
	stormAttempts       = 4
	stormStall          = 200 * time.Millisecond
	stormBucket         = 10 * time.Millisecond  // goodput is counted in buckets this wide
	stormRecoverSpan    = 100 * time.Millisecond // recovered: goodput over this span is back to stormRecovered
	stormRecovered      = 0.9                    // of the goodput before the trigger
)

func retryStorm() runner.Scenario {
	return runner.Scenario{
		Fault:       "retry-storm",
		Description: "clients retry every timeout at once, with no breaker or budget, so a brief stall of a dependency at half load becomes an outage that outlives it",
		Symptom:     "after the stall ends, goodput stays near zero and does not recover within the window; the dependency's queue stays full",
		Tool:        "go tool pprof -top -cum {dir}/goroutine.pprof",
		Culprit:     runner.Culprit{Func: "depclient.(*Client).getRetrying", Evidence: evidence.Goroutine},
		Checks: []runner.Check{
			{Metric: "goodput_after_trigger", Op: runner.Below, Threshold: 0.5, Unit: "of offered"},
			{Metric: "recovery_seconds", Op: runner.Above, Threshold: 0.5, Unit: "s"},
		},
		Run: runRetryStorm,
	}
}

func runRetryStorm(ctx context.Context, env *runner.Env) error {
	// Always the embedded server: the failure needs a dependency that serves requests whose callers
	// gave up, and pgx cancels a query in PostgreSQL when its context ends.
	dep, err := store.NewServer(stormServerWorkers, stormQueue, stormService)
	if err != nil {
		return err
	}
	defer dep.Close()
	desc := fmt.Sprintf("embedded server model (always, for this scenario): %d workers, %v per request, queue of %d; serves requests whose callers timed out",
		stormServerWorkers, stormService, stormQueue)
	env.Log.Info("backing store: " + desc)
	if err := env.WriteFile("backend.txt", []byte(desc+"\n")); err != nil {
		return err
	}
	states := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lab2_breaker_state",
		Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open."}, []string{"name"})
	env.Metrics.MustRegister(states)
	states.WithLabelValues("dependency").Set(0)
	client, err := depclient.New(dep, depclient.Config{
		MaxAttempts:    stormAttempts,
		AttemptTimeout: stormAttemptTimeout,
		Guarded:        !env.FaultOn,
		// A window of two attempt timeouts: the breaker must see the stall while it lasts, not
		// average it away against the healthy second before it.
		Breaker: breaker.Config{Name: "dependency", Window: 100 * time.Millisecond, MinRequests: 10, FailureRatio: 0.5,
			OpenTimeout: 50 * time.Millisecond, OnStateChange: []func(string, breaker.State, breaker.State){breaker.StateGauge(states)}},
		BudgetRatio: 0.1,
		BaseDelay:   10 * time.Millisecond,
	})
	if err != nil {
		return err
	}

	buckets := make([]atomic.Int64, int((env.Duration+5*time.Second)/stormBucket))
	var successes atomic.Int64
	start := time.Now()
	target := func(ctx context.Context) error {
		_, err := client.Get(ctx, "user:7")
		if err == nil {
			successes.Add(1)
			if i := int(time.Since(start) / stormBucket); i < len(buckets) {
				buckets[i].Add(1)
			}
		}
		// A failed request is the harm being measured, not a failure of the run.
		return nil
	}
	env.Series("dependency_queue", func() float64 { return float64(dep.QueueLen()) })
	env.Series("dependency_attempts", func() float64 { return float64(client.Attempts()) })
	env.Series("successes", func() float64 { return float64(successes.Load()) })
	env.Series("breaker_state", func() float64 { return float64(client.BreakerState()) })
	gauge(env, "lab2_dependency_queue_length", "Requests waiting in the dependency's queue.", func() float64 { return float64(dep.QueueLen()) })
	counter(env, "lab2_client_requests_total", "Requests made by the client.", func() float64 { return float64(client.Requests()) })
	counter(env, "lab2_client_successes_total", "Requests that got an answer.", func() float64 { return float64(successes.Load()) })
	counter(env, "lab2_dependency_attempts_total", "Calls that reached the dependency.", func() float64 { return float64(client.Attempts()) })

	// The trigger: a brief stall a quarter into the window. Its times, as it happened, go to the
	// log and the report. (They belong on the run's timeline as events once labkit has them.)
	var triggerAt, triggerEnd atomic.Int64 // since start
	trigger := runTrigger(ctx, env, start, func() time.Duration {
		dep.Stall(stormStall)
		at := time.Since(start)
		triggerAt.Store(int64(at))
		triggerEnd.Store(int64(at + stormStall))
		env.Log.Info(fmt.Sprintf("trigger: the dependency stalls for %v, from %v into the window", stormStall, at.Round(time.Millisecond)))
		return at + stormStall
	}, func() {
		env.Log.Info(fmt.Sprintf("trigger ends: the dependency serves again; queue %d, breaker %s", dep.QueueLen(), client.BreakerState()))
	})
	res, err := loadgen.Run(ctx, loadgen.Config{Rate: stormRate, Workers: stormWorkers, Duration: env.Duration}, target)
	trigger()
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	if triggerEnd.Load() == 0 {
		return fmt.Errorf("retry-storm: the trigger did not fire within the %v window", env.Duration)
	}
	good := func(from, to time.Duration) float64 { // fraction of the load offered in [from, to) that succeeded
		var n int64
		for i := int(from / stormBucket); i < int(to/stormBucket) && i < len(buckets); i++ {
			n += buckets[i].Load()
		}
		return float64(n) / (stormRate * (to - from).Seconds())
	}
	at, end := time.Duration(triggerAt.Load()), time.Duration(triggerEnd.Load())
	before := good(stormRecoverSpan, at) // after the first span: the generator's own start-up is not the dependency's
	after := good(end, env.Duration)
	// Recovered: goodput over a span back to stormRecovered of what it was before the trigger. On an
	// idle machine that is 90% of the offered load; on a starved one the baseline is lower, and it is
	// the dependency's recovery, not the machine's, being timed.
	recovery, recovered := env.Duration-end, false
	for t := end; t+stormRecoverSpan <= env.Duration; t += stormBucket {
		if good(t, t+stormRecoverSpan) >= stormRecovered*before {
			recovery, recovered = t-end, true
			break
		}
	}
	perReq := float64(client.Attempts()) / max(float64(client.Requests()), 1)
	env.Record("goodput_after_trigger", after)
	env.Record("goodput_before_trigger", before)
	// Not recovered: the rest of the window, a lower bound on the true recovery time.
	env.Record("recovery_seconds", recovery.Seconds())
	env.Record("recovered", map[bool]float64{true: 1, false: 0}[recovered])
	env.Record("trigger_start_s", at.Seconds())
	env.Record("trigger_end_s", end.Seconds())
	env.Record("attempts_per_request", perReq)
	env.Record("wasted_work_share", float64(dep.Wasted())/max(float64(dep.Served()), 1))
	verdict := fmt.Sprintf("recovered %v after the trigger ended", recovery.Round(time.Millisecond))
	if !recovered {
		verdict = fmt.Sprintf("did not recover within the window (%v after the trigger ended)", recovery.Round(time.Millisecond))
	}
	env.Log.Info(fmt.Sprintf("goodput %.2f of offered before the trigger, %.2f after it; %s; %d requests, %d attempts (%.2f per request); dependency served %d (%d for callers already gone), rejected %d; breaker %s; %d slots missed",
		before, after, verdict, client.Requests(), client.Attempts(), perReq, dep.Served(), dep.Wasted(), dep.Rejected(), client.BreakerState(), res.Missed))
	gauge(env, "lab2_goodput_after_trigger_ratio", "Successful requests over offered ones, from the end of the trigger to the end of the window.", func() float64 { return after })
	return nil
}

// runTrigger fires the trigger a quarter into the window, logs its end, and takes the goroutine
// profile halfway between the end and the window's close, while a storm would still be raging. The
// returned func stops it and waits for it.
func runTrigger(ctx context.Context, env *runner.Env, start time.Time, fire func() (end time.Duration), ended func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	until := func(d time.Duration) bool {
		t := time.NewTimer(time.Until(start.Add(d)))
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(done)
		if !until(env.Duration / 4) {
			return
		}
		end := fire()
		if !until(end) {
			return
		}
		ended()
		if !until(end + (env.Duration-end)/2) {
			return
		}
		if err := env.Snapshot(evidence.Goroutine); err != nil {
			env.Log.Warn("snapshot: " + err.Error())
		}
	}()
	return func() { cancel(); <-done }
}
