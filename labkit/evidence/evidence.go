// Package evidence captures what a learner needs to diagnose a fault: CPU,
// heap, goroutine, mutex and block profiles, a runtime trace and a time series
// of runtime metrics, all scoped to one scenario's window.
//
// Mutex and block profiles are cumulative for the life of the process, so a
// capture records a baseline when the window opens and writes the difference
// when it closes: the file then holds only what happened during the window,
// even when several scenarios run in one process.
package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// Kind names a profile a capture writes.
type Kind string

// The profiles a capture writes, named as `go tool pprof` knows them.
const (
	CPU       Kind = "cpu"
	Heap      Kind = "heap"
	Goroutine Kind = "goroutine"
	Mutex     Kind = "mutex"
	Block     Kind = "block"
	// Log is the scenario's structured log (lab.log): for defects that are
	// an absence (a wait that never happens), which no profile can show, but
	// the log line of the function that skipped it can.
	Log Kind = "log"
)

// LogFile is the scenario's structured log, written by the runner.
const LogFile = "lab.log"

// File is the evidence file a kind is written to.
func (k Kind) File() string {
	if k == Log {
		return LogFile
	}
	return string(k) + ".pprof"
}

// Evidence file names written next to the profiles.
const (
	GoroutineDump = "goroutine.txt"
	TraceFile     = "trace.out"
	MetricsCSV    = "metrics.csv"
	MetricsChart  = "metrics.svg"
	// SpansFile holds the scenario's finished spans (the runner writes it).
	SpansFile = "spans.json"
)

// Files are the names of the files the harness writes into a scenario's
// folder; a lab adds its own with WriteFile. The postmortem linter checks
// cited run outputs against them.
func Files() []string {
	out := make([]string, 0, 11)
	for _, k := range []Kind{CPU, Heap, Goroutine, Mutex, Block, Log} {
		out = append(out, k.File())
	}
	return append(out, GoroutineDump, TraceFile, MetricsCSV, MetricsChart, SpansFile)
}

// Options tune a capture. The zero value is usable.
type Options struct {
	// SampleEvery is the runtime metrics sampling period (default 100ms).
	SampleEvery time.Duration
	// MutexFraction is passed to runtime.SetMutexProfileFraction during the
	// window (default 5: one in five contention events).
	MutexFraction int
	// BlockRate is passed to runtime.SetBlockProfileRate during the window
	// (default 10µs: blocking events shorter than that are sampled).
	BlockRate int
	// NoTrace skips runtime/trace (a trace of a busy minute is large).
	NoTrace bool
}

// Capture is one open evidence window. It is not safe to run two at once in a
// process: the CPU profiler and the runtime tracer are process-wide.
type Capture struct {
	dir  string
	opts Options

	cpuFile   *os.File
	traceFile *os.File
	baseline  map[Kind]*profile.Profile
	prevMutex int

	sampler *Sampler

	mu       sync.Mutex
	snapshot map[Kind]bool // kinds already written by Snapshot
	files    []string

	started time.Time // the zero of the window's events
	events  eventLog  // events.go
	remote  remoteSet // remote.go: the nodes' debug servers
}

// Start opens a window writing into dir (created if needed). Every file it
// writes is listed by Files once Stop returns.
func Start(dir string, opts Options) (*Capture, error) {
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = 100 * time.Millisecond
	}
	if opts.MutexFraction <= 0 {
		opts.MutexFraction = 5
	}
	if opts.BlockRate <= 0 {
		opts.BlockRate = int(10 * time.Microsecond)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evidence: create %s: %w", dir, err)
	}
	c := &Capture{dir: dir, opts: opts, snapshot: map[Kind]bool{}, baseline: map[Kind]*profile.Profile{},
		started: time.Now()}

	// Sampling costs a little on every lock and channel operation, which is
	// why it is switched on for the window only.
	c.prevMutex = runtime.SetMutexProfileFraction(opts.MutexFraction)
	runtime.SetBlockProfileRate(opts.BlockRate)
	for _, k := range []Kind{Mutex, Block} {
		p, err := current(k)
		if err != nil {
			c.abort()
			return nil, err
		}
		c.baseline[k] = p
	}

	var err error
	if c.cpuFile, err = c.create(CPU.File()); err != nil {
		c.abort()
		return nil, err
	}
	if err := pprof.StartCPUProfile(c.cpuFile); err != nil {
		c.abort()
		return nil, fmt.Errorf("evidence: start CPU profile: %w", err)
	}
	if !opts.NoTrace {
		if c.traceFile, err = c.create(TraceFile); err != nil {
			c.abort()
			return nil, err
		}
		if err := trace.Start(c.traceFile); err != nil {
			c.abort()
			return nil, fmt.Errorf("evidence: start runtime trace: %w", err)
		}
	}
	c.sampler = StartSampler(opts.SampleEvery)
	return c, nil
}

// Series adds a time series of the lab's own (queue length, store QPS ...)
// sampled with the runtime metrics.
func (c *Capture) Series(name string, sample func() float64) { c.sampler.Add(name, sample) }

// Snapshot writes one profile now instead of at Stop: a goroutine profile in
// the middle of a stampede says more than one taken after it has drained.
func (c *Capture) Snapshot(k Kind) error {
	switch k {
	case Heap, Goroutine, Mutex, Block:
	default:
		return fmt.Errorf("evidence: cannot snapshot %q (want heap, goroutine, mutex or block)", k)
	}
	if err := c.write(k); err != nil {
		return err
	}
	c.mu.Lock()
	c.snapshot[k] = true
	c.mu.Unlock()
	return nil
}

// Stop closes the window: it stops the CPU profile, the trace and the
// sampler, and writes every profile not already written by Snapshot, the
// goroutine dump and the metrics CSV and chart. It returns every error it met
// (joined), so a full disk is reported, and still restores profiling rates.
func (c *Capture) Stop() error {
	var errs []error
	pprof.StopCPUProfile()
	errs = append(errs, closeFile(c.cpuFile))
	if c.traceFile != nil {
		trace.Stop()
		errs = append(errs, closeFile(c.traceFile))
	}
	samples := c.sampler.Stop()

	for _, k := range []Kind{Heap, Goroutine, Mutex, Block} {
		c.mu.Lock()
		done := c.snapshot[k]
		c.mu.Unlock()
		if !done {
			errs = append(errs, c.write(k))
		}
	}
	errs = append(errs, c.writeGoroutineDump())
	errs = append(errs, c.remote.finish(c))
	runtime.SetMutexProfileFraction(c.prevMutex)
	runtime.SetBlockProfileRate(0)

	var csv bytes.Buffer
	if err := samples.WriteCSV(&csv); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, c.writeFile(MetricsCSV, csv.Bytes()))
	}
	if svg, err := samples.Chart(c.Events()...); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, c.writeFile(MetricsChart, svg))
	}
	return errors.Join(errs...)
}

// Files lists the evidence files written so far, relative to the capture's folder, sorted.
func (c *Capture) Files() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.files...)
	sort.Strings(out)
	return out
}

// WriteFile adds a file of the lab's own to the evidence (EXPLAIN output, a log).
func (c *Capture) WriteFile(name string, data []byte) error {
	if name != filepath.Base(name) {
		return fmt.Errorf("evidence: file name %q must not contain a directory", name)
	}
	return c.writeFile(name, data)
}

func (c *Capture) write(k Kind) error {
	var buf bytes.Buffer
	switch k {
	case Heap:
		// The in-use heap is as of the last GC; collect now so it is current.
		runtime.GC()
		if err := pprof.Lookup("heap").WriteTo(&buf, 0); err != nil {
			return fmt.Errorf("evidence: heap profile: %w", err)
		}
	case Goroutine:
		if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
			return fmt.Errorf("evidence: goroutine profile: %w", err)
		}
	case Mutex, Block:
		p, err := current(k)
		if err != nil {
			return err
		}
		if p, err = delta(p, c.baseline[k]); err != nil {
			return err
		}
		if err := p.Write(&buf); err != nil {
			return fmt.Errorf("evidence: %s profile: %w", k, err)
		}
	}
	return c.writeFile(k.File(), buf.Bytes())
}

func (c *Capture) writeGoroutineDump() error {
	var buf bytes.Buffer
	// debug=2 prints every goroutine with its state and wait time, the format
	// of a crash dump, which is what a learner greps.
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		return fmt.Errorf("evidence: goroutine dump: %w", err)
	}
	return c.writeFile(GoroutineDump, buf.Bytes())
}

func (c *Capture) create(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(c.dir, name))
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	c.record(name)
	return f, nil
}

func (c *Capture) writeFile(name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o644); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	c.record(name)
	return nil
}

func (c *Capture) record(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.files {
		if f == name {
			return
		}
	}
	c.files = append(c.files, name)
}

// abort undoes a half-opened window.
func (c *Capture) abort() {
	if c.cpuFile != nil {
		pprof.StopCPUProfile()
		_ = c.cpuFile.Close()
	}
	if c.traceFile != nil {
		trace.Stop()
		_ = c.traceFile.Close()
	}
	runtime.SetMutexProfileFraction(c.prevMutex)
	runtime.SetBlockProfileRate(0)
}

func closeFile(f *os.File) error {
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// current reads a cumulative profile of the process.
func current(k Kind) (*profile.Profile, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup(string(k)).WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("evidence: read %s profile: %w", k, err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		return nil, fmt.Errorf("evidence: parse %s profile: %w", k, err)
	}
	return p, nil
}

// delta subtracts the baseline from a cumulative profile.
func delta(cur, base *profile.Profile) (*profile.Profile, error) {
	if base == nil || len(base.Sample) == 0 {
		return cur, nil
	}
	base = base.Copy()
	base.Scale(-1)
	p, err := profile.Merge([]*profile.Profile{cur, base})
	if err != nil {
		return nil, fmt.Errorf("evidence: subtract baseline: %w", err)
	}
	// Merge keeps samples that cancelled out at zero; drop them so `-top`
	// does not list functions that did nothing in the window.
	kept := p.Sample[:0]
	for _, s := range p.Sample {
		for _, v := range s.Value {
			if v != 0 {
				kept = append(kept, s)
				break
			}
		}
	}
	p.Sample = kept
	return p, nil
}
