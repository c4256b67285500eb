package runner

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
)

// Env is what a scenario's Run receives.
type Env struct {
	FaultOn  bool                 // inject the defect (false: the fixed path)
	Seed     uint64               // the run's seed; also seeds Rand
	Rand     *rand.Rand           // deterministic for a given seed; not safe for concurrent use
	Duration time.Duration        // the load window
	Log      *zap.Logger          // writes to lab.log in the evidence folder
	Metrics  *prometheus.Registry // served on the debug server's /metrics
	Tracer   trace.TracerProvider // spans land in spans.json in the evidence folder
	Dir      string               // this scenario's evidence folder

	capture    *evidence.Capture
	keepSeries func(name string) bool // nil keeps every series; a mystery keeps the common signals
	// hidden drops the scenario's events: in a mystery, "partition" or
	// "rebalance" on the timeline would name the answer.
	hidden bool

	mu       sync.Mutex
	recorded map[string]float64
	cleanups []func()
	history  *history.Recorder // made by History on first use
	traffic  *Traffic          // made by Traffic on first use
}

// Traffic is where the scenario reports what its users saw (the common
// signals: rate, errors, p99). Every scenario of a lab reports it, so a
// fault=mystery run can show the same dashboard whatever the fault.
func (e *Env) Traffic() *Traffic {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.traffic == nil {
		e.traffic = NewTraffic()
	}
	return e.traffic
}

// Record sets a symptom metric the scenario's checks read.
func (e *Env) Record(metric string, v float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recorded[metric] = v
}

// Series adds a time series of the lab's own to metrics.csv and the chart.
func (e *Env) Series(name string, sample func() float64) {
	if e.keepSeries != nil && !e.keepSeries(name) {
		return
	}
	e.capture.Series(name, sample)
}

// Snapshot captures one profile now rather than when the window closes.
func (e *Env) Snapshot(kind evidence.Kind) error { return e.capture.Snapshot(kind) }

// WriteFile adds a file to the evidence folder.
func (e *Env) WriteFile(name string, data []byte) error { return e.capture.WriteFile(name, data) }

// Metric reads one metric from the scenario's registry, as a Prometheus
// scrape would see it: the first series of the family name (use it for
// metrics without labels, or whose first series is the one you want).
func (e *Env) Metric(name string) (*dto.Metric, error) {
	mfs, err := e.Metrics.Gather()
	if err != nil {
		return nil, fmt.Errorf("runner: gather metrics: %w", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0], nil
		}
	}
	return nil, fmt.Errorf("runner: metric %s is not registered", name)
}

// Cleanup registers fn to run after the evidence is captured, last first, so
// a leak or a stuck goroutine is still there when the profiles are taken.
func (e *Env) Cleanup(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, fn)
}

func (e *Env) runCleanups() {
	e.mu.Lock()
	fns := e.cleanups
	e.cleanups = nil
	e.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func (e *Env) metrics() map[string]float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]float64, len(e.recorded)+len(REDSignals))
	if e.traffic != nil {
		for k, v := range e.traffic.signals(e.Duration) {
			out[k] = v
		}
	}
	for k, v := range e.recorded {
		out[k] = v // what the scenario recorded itself wins
	}
	return out
}
