package runner

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
)

// The common signals every scenario reports through Env.Traffic: the RED
// trio (rate, errors, duration) of the traffic its users send. They are
// what an on-call engineer's dashboard shows first whatever broke, so a
// fault=mystery run shows them (beside their fault-free baseline) and
// nothing named for the fault.
const (
	SignalRate       = "rate_rps"       // operations per second of the window, failed ones included
	SignalErrorRatio = "error_ratio"    // failed operations / all operations
	SignalP99        = "p99_latency_ms" // the operations' 99th percentile latency
)

// REDSignals are the common signals in the order a report shows them.
var REDSignals = []string{SignalRate, SignalErrorRatio, SignalP99}

// Traffic accumulates what the scenario's users saw: every operation's
// latency and whether it failed. A scenario with several kinds of users
// (readers and a report, say) adds them all: the dashboard's RED panel does
// not know which user the defect hurts.
type Traffic struct {
	mu     sync.Mutex
	hist   *hdrhistogram.Histogram
	ops    int64
	errors int64
}

// NewTraffic is a Traffic of the scenario's own, for a client goroutine
// that records every operation: each of many clients keeps one (its lock is
// then never contended) and Merges it into env.Traffic when the window
// closes.
func NewTraffic() *Traffic {
	// 1 µs to 10 min at 2 significant digits (1% on a p99) in about 20 KB,
	// so a scenario can give each of hundreds of clients its own.
	return &Traffic{hist: hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 2)}
}

// Merge folds another Traffic in.
func (t *Traffic) Merge(o *Traffic) {
	o.mu.Lock()
	h, ops, errs := hdrhistogram.Import(o.hist.Export()), o.ops, o.errors
	o.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ops += ops
	t.errors += errs
	t.hist.Merge(h)
}

// Add folds a load generator's result in.
func (t *Traffic) Add(res loadgen.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ops += res.Requests
	t.errors += res.Errors
	if h := res.Histogram(); h != nil {
		// loadgen records nanoseconds; this histogram keeps microseconds.
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				_ = t.hist.RecordValues(max((b.From+b.To)/2000, 1), b.Count)
			}
		}
	}
}

// Observe records one operation. It takes a lock, so many clients that each
// run thousands of operations a second should each keep a NewTraffic and
// Merge it when the window closes: a lock they all share would show up in
// the block and mutex profiles that are meant to find the lab's defect, and
// would serialize the very clients whose concurrency the lab is about.
func (t *Traffic) Observe(latency time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ops++
	if err != nil {
		t.errors++
	}
	_ = t.hist.RecordValue(max(latency.Microseconds(), 1))
}

// signals are the RED trio over a window, or nil when nothing was observed.
func (t *Traffic) signals(window time.Duration) map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ops == 0 {
		return nil
	}
	return map[string]float64{
		SignalRate:       float64(t.ops) / window.Seconds(),
		SignalErrorRatio: float64(t.errors) / float64(t.ops),
		SignalP99:        float64(t.hist.ValueAtQuantile(99)) / 1000,
	}
}
