// Package loadgen drives load at a target (an HTTP endpoint or any Go function) and reports
// HDR-histogram latencies, throughput and classified errors.
//
// Two modes:
//
//   - Closed loop (Config.Rate == 0): Workers goroutines each call the target back to back. The
//     offered load adapts to the target: when it slows down, fewer requests are sent. Good for
//     "how fast can it go".
//
//   - Open loop (Config.Rate > 0): requests are scheduled at a constant arrival rate, request i at
//     start + i/Rate, whatever the target is doing. Workers bounds how many are in flight. When
//     every worker is busy the schedule keeps advancing; a worker that frees up takes the oldest
//     overdue slot and sends it at once, and that request's latency is measured from its intended
//     send time, not from when it was finally sent. This is the coordinated-omission correction:
//     a 200 ms stall delays every request scheduled during it, and all of them show the delay in
//     the percentiles instead of a single slow sample. Every slot due inside the window is sent,
//     overdue ones even after the window closes, until Config.Drain has passed too; slots still
//     unsent then are reported as Result.Missed (raise Workers). A generator that falls behind
//     therefore shows up as Elapsed longer than Duration, lower Throughput, and latency.
//     A worker that is idle and waits for its slot measures from the moment it actually sends, so
//     timer wake-up slop on an idle generator is not charged to the target.
//
// Each worker records into its own histogram (no shared lock on the hot path); they are merged
// when the run ends. Latency covers every completed request, failed ones included, as wrk, hey and
// vegeta do, so a timeout storm shows up in latency as well as in Errors.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Target performs one request. A non-nil error counts as a failed request; its kind is decided
// by Classify. It must return soon after ctx is done: Run ends the context when the caller
// cancels or when the window plus Config.Drain has passed, and it waits for every call to
// return, so a target that ignores its context can hold Run open.
type Target func(ctx context.Context) error

// Defaults and limits applied by Run.
const (
	// DefaultOpenLoopWorkers is the concurrency bound used in open loop when Config.Workers is 0.
	DefaultOpenLoopWorkers = 64
	// MaxWorkers bounds Config.Workers: each worker that completes a request owns an HDR
	// histogram of about 270 KB.
	MaxWorkers = 10000
	// DefaultInterval is the width of Result.Series buckets when Config.Interval is 0.
	DefaultInterval = time.Second
	// DefaultDrain is how long requests still in flight when the window closes may take when
	// Config.Drain is 0.
	DefaultDrain = 2 * time.Second

	// Histogram geometry: 1 ns to 1 h at 3 significant digits. Larger values are clamped in the
	// histogram; Latency.Max and Latency.Mean stay exact.
	histLowest  = 1
	histHighest = int64(time.Hour)
	histDigits  = 3
	// maxScheduled keeps Rate × Duration within what the scheduler's arithmetic can represent.
	maxScheduled = 1 << 40
)

// ErrConfig is wrapped by every validation error Run returns.
var ErrConfig = errors.New("loadgen: invalid config")

// Config describes one run. Workers, Rate, Duration and MaxRequests are the knobs; the rest
// have defaults.
type Config struct {
	// Workers is the number of concurrent callers. Closed loop: required, at least 1. Open loop:
	// the bound on requests in flight; 0 means DefaultOpenLoopWorkers.
	Workers int
	// Rate is the open-loop arrival rate in requests per second. 0 selects closed loop.
	Rate float64
	// Duration is the load window. At least one of Duration and MaxRequests must be set; the run
	// ends at whichever comes first.
	Duration time.Duration
	// MaxRequests caps the number of requests started. 0 means no cap.
	MaxRequests int64
	// Interval is the width of the Result.Series buckets and the period of OnInterval; 0 means
	// DefaultInterval.
	Interval time.Duration
	// OnInterval, when set, is called from a single goroutine after each Interval (and once for
	// the final partial one) with that interval's counts. Run returns only after its last call.
	// Keep it fast: it does not slow the workers, but it delays the next call.
	OnInterval func(Interval)
	// Drain bounds how long requests still in flight when the window closes may take before
	// their context is cancelled; 0 means DefaultDrain. Requests cut off this way count as
	// errors of kind "timeout".
	Drain time.Duration
}

// Result is what a run measured. Requests and Errors count completed requests; requests aborted
// because the caller cancelled ctx are not counted.
type Result struct {
	Mode       string           `json:"mode"` // "open" or "closed"
	Requests   int64            `json:"requests"`
	Errors     int64            `json:"errors"`
	Elapsed    time.Duration    `json:"elapsed_ns"`
	Throughput float64          `json:"throughput_rps"` // Requests / Elapsed
	Latency    Latency          `json:"latency"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	// ErrorSamples holds the first error message seen for each kind, for debugging.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// Missed counts open-loop slots scheduled inside the window that no worker could start
	// before the window plus Drain ended, because all Workers were busy. Non-zero means Workers
	// is too small for Rate × latency, or the generator itself could not keep up.
	Missed int64 `json:"missed"`
	// Series is the per-Interval throughput, by completion time.
	Series []Interval `json:"series,omitempty"`

	hist *hdrhistogram.Histogram
}

// Latency summarises the latency distribution of completed requests.
type Latency struct {
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// Interval is the activity of one Config.Interval-wide slice of the run.
type Interval struct {
	Start      time.Duration `json:"start_ns"` // offset from the start of the run
	Length     time.Duration `json:"length_ns"`
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"`
	Throughput float64       `json:"throughput_rps"`
}

// Quantile returns the latency at quantile q (0..1) of the merged histogram, for percentiles
// Latency does not carry. It returns 0 when nothing was recorded.
func (r Result) Quantile(q float64) time.Duration {
	if r.hist == nil || r.hist.TotalCount() == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	return time.Duration(r.hist.ValueAtQuantile(q * 100))
}

// Histogram returns the merged latency histogram in nanoseconds (nil before any request
// completed), for charts or percentiles Latency does not carry. Treat it as read-only.
func (r Result) Histogram() *hdrhistogram.Histogram { return r.hist }

// String is a one-line summary, handy in logs and tests.
func (r Result) String() string {
	return fmt.Sprintf("%s loop: %d requests in %v (%.0f req/s), %d errors, missed %d, latency p50 %v p90 %v p99 %v p99.9 %v max %v mean %v",
		r.Mode, r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput, r.Errors, r.Missed,
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Latency.Mean)
}

// plan is a validated Config with defaults applied.
type plan struct {
	Config
	open     bool
	total    int64   // open loop: slots to schedule
	periodNs float64 // open loop: nanoseconds between slots
	window   time.Duration
}

func validate(cfg Config, target Target) (plan, error) {
	bad := func(format string, args ...any) (plan, error) {
		return plan{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case target == nil:
		return bad("target is nil")
	case math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) || cfg.Rate < 0:
		return bad("Rate must be 0 (closed loop) or a positive finite number of requests per second, got %v", cfg.Rate)
	case cfg.Workers < 0 || cfg.Workers > MaxWorkers:
		return bad("Workers must be between 1 and %d, got %d", MaxWorkers, cfg.Workers)
	case cfg.Rate == 0 && cfg.Workers < 1:
		return bad("Workers must be at least 1 in closed loop (Rate 0), got %d", cfg.Workers)
	case cfg.Duration < 0:
		return bad("Duration must not be negative, got %v", cfg.Duration)
	case cfg.MaxRequests < 0:
		return bad("MaxRequests must not be negative, got %d", cfg.MaxRequests)
	case cfg.Duration == 0 && cfg.MaxRequests == 0:
		return bad("set Duration or MaxRequests (both are 0, the run would never end)")
	case cfg.Interval < 0:
		return bad("Interval must not be negative, got %v", cfg.Interval)
	case cfg.Drain < 0:
		return bad("Drain must not be negative, got %v", cfg.Drain)
	}
	p := plan{Config: cfg, open: cfg.Rate > 0}
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if p.Drain == 0 {
		p.Drain = DefaultDrain
	}
	p.window = cfg.Duration
	if p.open {
		if p.Workers == 0 {
			p.Workers = DefaultOpenLoopWorkers
		}
		p.periodNs = 1e9 / cfg.Rate
		slots := math.Inf(1)
		if cfg.Duration > 0 {
			// Slot i is due at i/Rate; those due before the window closes are scheduled.
			// The epsilon keeps float rounding from adding a slot due exactly at the end.
			slots = math.Ceil(cfg.Duration.Seconds()*cfg.Rate - 1e-9)
		}
		if cfg.MaxRequests > 0 {
			slots = math.Min(slots, float64(cfg.MaxRequests))
		}
		if slots > maxScheduled {
			return bad("Rate × Duration schedules %.3g requests, more than %d", slots, int64(maxScheduled))
		}
		p.total = int64(slots)
		if p.window == 0 {
			// MaxRequests only: the window is the time the schedule needs.
			p.window = time.Duration(float64(p.total) * p.periodNs)
		}
	}
	return p, nil
}

// Run drives load at target as cfg says and returns what it measured. It returns a wrapped
// ErrConfig for an invalid cfg, and the partial Result with ctx.Err() when ctx is cancelled.
// No goroutine it starts outlives it.
func Run(ctx context.Context, cfg Config, target Target) (Result, error) {
	p, err := validate(cfg, target)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{Mode: p.mode()}, err
	}

	start := time.Now()
	var end time.Time // zero: no time limit (closed loop with MaxRequests only)
	if p.window > 0 {
		end = start.Add(p.window)
	}
	// Requests in flight when the window closes get Drain to finish; then their context ends.
	targetCtx, cancelTargets := ctx, context.CancelFunc(func() {})
	if !end.IsZero() {
		targetCtx, cancelTargets = context.WithDeadline(ctx, end.Add(p.Drain))
	}
	defer cancelTargets()

	workers := make([]*worker, p.Workers)
	var (
		wg    sync.WaitGroup
		next  atomic.Int64 // open loop: next slot; closed loop with MaxRequests: requests claimed
		limit = p.MaxRequests
	)
	for i := range workers {
		w := &worker{start: start}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.open {
				w.runOpen(ctx, targetCtx, target, &next, p.total, p.periodNs, end.Add(p.Drain))
			} else {
				w.runClosed(ctx, targetCtx, target, &next, limit, end)
			}
		}()
	}

	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	series := report(allDone, p.Interval, p.OnInterval, start, workers)
	elapsed := time.Since(start)
	if p.open && ctx.Err() == nil {
		// The last slot is due just before the window closes; the schedule spans the window.
		elapsed = max(elapsed, p.window)
	}

	res := merge(p, workers, elapsed)
	res.Series = series
	if p.open {
		var begun int64
		for _, w := range workers {
			begun += w.begun
		}
		res.Missed = max(p.total-begun, 0)
		if ctx.Err() != nil {
			res.Missed = 0 // the caller stopped the run; unsent slots are not the target's fault
		}
	}
	return res, ctx.Err()
}

func (p plan) mode() string {
	if p.open {
		return "open"
	}
	return "closed"
}

// report samples the workers' counters every interval until done is closed, calling onInterval
// for each slice, and returns the series. It runs on Run's goroutine, so nothing outlives Run.
func report(done <-chan struct{}, interval time.Duration, onInterval func(Interval), start time.Time, workers []*worker) []Interval {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var series []Interval
	var lastReq, lastErr int64
	last := time.Duration(0)
	emit := func(now time.Duration) {
		var req, errs int64
		for _, w := range workers {
			req += w.requests.Load()
			errs += w.errors.Load()
		}
		iv := Interval{Start: last, Length: now - last, Requests: req - lastReq, Errors: errs - lastErr}
		if iv.Length > 0 {
			iv.Throughput = float64(iv.Requests) / iv.Length.Seconds()
		}
		lastReq, lastErr, last = req, errs, now
		series = append(series, iv)
		if onInterval != nil {
			onInterval(iv)
		}
	}
	for {
		select {
		case <-done:
			now := time.Since(start)
			if now > last || len(series) == 0 {
				emit(now)
			}
			return series
		case <-tick.C:
			emit(time.Since(start))
		}
	}
}

// merge folds the per-worker histograms and counters into one Result.
func merge(p plan, workers []*worker, elapsed time.Duration) Result {
	res := Result{Mode: p.mode(), Elapsed: elapsed}
	all := hdrhistogram.New(histLowest, histHighest, histDigits)
	var sum float64
	var maxLat time.Duration
	for _, w := range workers {
		res.Requests += w.requests.Load()
		res.Errors += w.errors.Load()
		sum += float64(w.sum)
		maxLat = max(maxLat, w.max)
		if w.hist != nil {
			all.Merge(w.hist)
		}
		for k, n := range w.kinds {
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]int64{}
				res.ErrorSamples = map[string]string{}
			}
			res.ErrorKinds[k] += n
			if _, ok := res.ErrorSamples[k]; !ok {
				res.ErrorSamples[k] = w.samples[k]
			}
		}
	}
	res.hist = all
	if elapsed > 0 {
		res.Throughput = float64(res.Requests) / elapsed.Seconds()
	}
	if n := all.TotalCount(); n > 0 {
		q := all.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9})
		res.Latency = Latency{
			P50:  time.Duration(q[0]),
			P90:  time.Duration(q[1]),
			P99:  time.Duration(q[2]),
			P999: time.Duration(q[3]),
			Max:  maxLat,
			Mean: time.Duration(sum / float64(n)),
		}
	}
	return res
}

// worker is one caller's private state. Only requests and errors are read by another goroutine
// while the run is live (the interval reporter), so they are atomics on the worker's own cache
// line; everything else is touched by the worker alone until Run merges it.
type worker struct {
	requests atomic.Int64
	errors   atomic.Int64
	_        [64]byte // keep the next worker's counters off this cache line

	start   time.Time
	hist    *hdrhistogram.Histogram
	sum     time.Duration
	max     time.Duration
	begun   int64
	kinds   map[string]int64
	samples map[string]string
}

func (w *worker) record(lat time.Duration, err error) {
	if w.hist == nil {
		w.hist = hdrhistogram.New(histLowest, histHighest, histDigits)
	}
	v := int64(lat)
	if v < histLowest {
		v = histLowest
	} else if v > histHighest {
		v = histHighest
	}
	_ = w.hist.RecordValue(v) // cannot fail: v is clamped into the histogram's range
	w.sum += lat
	if lat > w.max {
		w.max = lat
	}
	w.requests.Add(1)
	if err != nil {
		w.errors.Add(1)
		kind := Classify(err)
		if w.kinds == nil {
			w.kinds = map[string]int64{}
			w.samples = map[string]string{}
		}
		if w.kinds[kind] == 0 {
			w.samples[kind] = err.Error()
		}
		w.kinds[kind]++
	}
}

// runClosed calls target back to back until the window closes, the request cap is reached or
// ctx is cancelled.
func (w *worker) runClosed(ctx, targetCtx context.Context, target Target, claimed *atomic.Int64, limit int64, end time.Time) {
	done := ctx.Done()
	timed := !end.IsZero()
	for {
		select {
		case <-done:
			return
		default:
		}
		if limit > 0 && claimed.Add(1) > limit {
			return
		}
		t0 := time.Now()
		if timed && !t0.Before(end) {
			return
		}
		w.begun++
		err := target(targetCtx)
		t1 := time.Now()
		if err != nil && ctx.Err() != nil {
			return // aborted by the caller: not a measurement
		}
		w.record(t1.Sub(t0), err)
	}
}

// runOpen takes slots off the shared schedule until it is exhausted, or until stopAt (the end of
// the window plus Drain) for slots that are overdue.
func (w *worker) runOpen(ctx, targetCtx context.Context, target Target, next *atomic.Int64, total int64, periodNs float64, stopAt time.Time) {
	done := ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		i := next.Add(1) - 1
		if i >= total {
			return
		}
		intended := w.start.Add(time.Duration(float64(i) * periodNs))
		now := time.Now()
		from := intended
		if wait := intended.Sub(now); wait > 0 {
			// Idle worker, early for its slot: wait, then measure from the actual send so that
			// timer slop is not charged to the target.
			timer.Reset(wait)
			select {
			case <-done:
				return
			case <-timer.C:
			}
			from = time.Now()
		} else {
			// Overdue slot: every worker was busy when it came due. Send now and charge the wait.
			if !now.Before(stopAt) {
				return // too late even for the drain; what is left of the schedule is Missed
			}
			select {
			case <-done:
				return
			default:
			}
		}
		w.begun++
		err := target(targetCtx)
		t1 := time.Now()
		if err != nil && ctx.Err() != nil {
			return
		}
		w.record(t1.Sub(from), err)
	}
}

// KindsByCount returns the keys of ErrorKinds, most frequent first.
func (r Result) KindsByCount() []string {
	kinds := r.ErrorKinds
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if kinds[keys[i]] != kinds[keys[j]] {
			return kinds[keys[i]] > kinds[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
