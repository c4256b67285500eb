package evidence

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/quantile"
)

// The runtime series every capture records. Their names are the CSV columns.
const (
	SeriesGoroutines   = "goroutines"
	SeriesHeapLive     = "heap_live_bytes"
	SeriesGCCycles     = "gc_cycles"
	SeriesGCPauseP99   = "gc_pause_p99_seconds"
	SeriesSchedP99     = "sched_latency_p99_seconds"
	SeriesThreads      = "os_threads"
	SeriesCPUUtil      = "cpu_cores_used"
	timeColumn         = "t_seconds"
	metricGoroutines   = "/sched/goroutines:goroutines"
	metricHeapLive     = "/gc/heap/live:bytes"
	metricGCCycles     = "/gc/cycles/total:gc-cycles"
	metricGCPauses     = "/sched/pauses/total/gc:seconds"
	metricSchedLatency = "/sched/latencies:seconds"
	metricThreads      = "/sched/threads/total:threads"
)

// Sampler records runtime metrics, process CPU and the lab's own series at a
// fixed period until stopped.
type Sampler struct {
	every time.Duration
	start time.Time

	mu      sync.Mutex
	custom  []namedSample
	samples *Samples

	stop chan struct{}
	done chan struct{}
}

type namedSample struct {
	name   string
	sample func() float64
}

// Samples is a recorded time series: one row per tick, one column per series.
type Samples struct {
	Columns []string    // series names, in order of first appearance
	Rows    [][]float64 // Rows[i][0] is seconds since start; NaN where a series had no value yet
}

// StartSampler starts sampling every period (at least 10ms).
func StartSampler(every time.Duration) *Sampler {
	every = max(every, 10*time.Millisecond)
	s := &Sampler{
		every: every,
		start: time.Now(),
		samples: &Samples{Columns: []string{timeColumn, SeriesGoroutines, SeriesHeapLive, SeriesGCCycles,
			SeriesGCPauseP99, SeriesSchedP99, SeriesThreads, SeriesCPUUtil}},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go s.loop()
	return s
}

// Add registers a series of the lab's own. It may be called while sampling.
func (s *Sampler) Add(name string, sample func() float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.custom = append(s.custom, namedSample{name, sample})
	s.samples.Columns = append(s.samples.Columns, name)
}

// Stop ends sampling and returns what was recorded. It is safe to call twice.
func (s *Sampler) Stop() *Samples {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

func (s *Sampler) loop() {
	defer close(s.done)
	reads := []metrics.Sample{
		{Name: metricGoroutines}, {Name: metricHeapLive}, {Name: metricGCCycles},
		{Name: metricGCPauses}, {Name: metricSchedLatency}, {Name: metricThreads},
	}
	var prevPause, prevSched *metrics.Float64Histogram
	prevCPU, prevAt := cpuSeconds(), time.Now()
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-tick.C:
			metrics.Read(reads)
			pause := reads[3].Value.Float64Histogram()
			sched := reads[4].Value.Float64Histogram()
			cpu := cpuSeconds()
			row := []float64{
				now.Sub(s.start).Seconds(),
				float64(reads[0].Value.Uint64()),
				float64(reads[1].Value.Uint64()),
				float64(reads[2].Value.Uint64()),
				// The histograms are cumulative; the p99 of the tick's own
				// events is what shows a stall when it happens.
				quantile.RuntimeDelta(pause, prevPause, 0.99),
				quantile.RuntimeDelta(sched, prevSched, 0.99),
				float64(reads[5].Value.Uint64()),
				(cpu - prevCPU) / now.Sub(prevAt).Seconds(),
			}
			prevPause, prevSched, prevCPU, prevAt = pause, sched, cpu, now

			s.mu.Lock()
			for _, c := range s.custom {
				row = append(row, c.sample())
			}
			s.samples.Rows = append(s.samples.Rows, row)
			s.mu.Unlock()
		}
	}
}

// Column returns the values of one series (NaN where it had no value yet).
func (ss *Samples) Column(name string) []float64 {
	idx := -1
	for i, c := range ss.Columns {
		if c == name {
			idx = i
		}
	}
	out := make([]float64, len(ss.Rows))
	for i, r := range ss.Rows {
		if idx >= 0 && idx < len(r) {
			out[i] = r[idx]
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

// Max returns the largest value of a series, or NaN when it has none.
func (ss *Samples) Max(name string) float64 {
	m := math.NaN()
	for _, v := range ss.Column(name) {
		if !math.IsNaN(v) && (math.IsNaN(m) || v > m) {
			m = v
		}
	}
	return m
}

// Mean returns the average of a series, or NaN when it has no value.
func (ss *Samples) Mean(name string) float64 {
	sum, n := 0.0, 0
	for _, v := range ss.Column(name) {
		if !math.IsNaN(v) {
			sum, n = sum+v, n+1
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// ReadCSV reads what WriteCSV wrote (metrics.csv), so a run's series can be
// charted against another run's after both have finished.
func ReadCSV(r io.Reader) (*Samples, error) {
	records, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("evidence: read csv: %w", err)
	}
	if len(records) == 0 || len(records[0]) == 0 || records[0][0] != timeColumn {
		return nil, fmt.Errorf("evidence: read csv: expected a header starting with %s", timeColumn)
	}
	ss := &Samples{Columns: records[0]}
	for i, rec := range records[1:] {
		row := make([]float64, len(rec))
		for j, field := range rec {
			if field == "" {
				row[j] = math.NaN() // a series added late
				continue
			}
			if row[j], err = strconv.ParseFloat(field, 64); err != nil {
				return nil, fmt.Errorf("evidence: read csv: row %d, %s: expected a number, got %q", i+2, ss.Columns[j], field)
			}
		}
		ss.Rows = append(ss.Rows, row)
	}
	return ss, nil
}

// WriteCSV writes the series as CSV, one row per tick; a series added late is
// blank before its first sample.
func (ss *Samples) WriteCSV(w io.Writer) error {
	line := make([]byte, 0, 256)
	for i, c := range ss.Columns {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, c...)
	}
	line = append(line, '\n')
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("evidence: write csv: %w", err)
	}
	for _, r := range ss.Rows {
		line = line[:0]
		for i := range ss.Columns {
			if i > 0 {
				line = append(line, ',')
			}
			if i < len(r) && !math.IsNaN(r[i]) {
				line = strconv.AppendFloat(line, r[i], 'g', 6, 64)
			}
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("evidence: write csv: %w", err)
		}
	}
	return nil
}

// cpuSeconds is the CPU time (user+system) this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
