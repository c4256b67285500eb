// Package scenarios turns lab 1's four runtime faults into labkit scenarios: each drives the
// real code under load with the defect on or off, records the symptom, and names the culprit
// the captured evidence must point at.
package scenarios

import (
	"fmt"
	"syscall"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

const pkg = "github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/"

// Frames the goroutine-leak and deadlock scenarios leave blocked forever, by design; the
// scenario test tells goleak to ignore exactly these.
const (
	LeakedFrame = pkg + "fetch.(*Handler).work"
	StuckFrame  = pkg + "bank.(*Bank).Transfer"
)

// cpuThreshold separates the fixed validator from the defective one by ~10x each way on a
// 2-core machine: `make lab-1 fault=on` measured cpu_us_per_request 338.4 µs and `make lab-1`
// 2.7 µs (2026-12-01, both in report.json). Under the race detector (`go test -race`) every
// memory access is instrumented, both paths are slower and the gap narrows, so the threshold
// moves up between them there.
func cpuThreshold() float64 {
	if raceDetector {
		return 350
	}
	return 30
}

// Lab is lab 1.
func Lab() runner.Lab {
	return runner.Lab{Number: 1, Title: "Go concurrency", Scenarios: []runner.Scenario{
		{
			Fault:       "goroutine-leak",
			Description: "a handler that times out abandons its worker, which blocks forever sending on an unbuffered channel",
			Symptom:     "goroutines grow linearly with requests and never come back down",
			Tool:        "go tool pprof -top -cum {dir}/goroutine.pprof",
			Culprit:     runner.Culprit{Func: "fetch.(*Handler).work", Evidence: evidence.Goroutine},
			Checks:      []runner.Check{{Metric: "leaked_goroutines", Op: runner.Above, Threshold: 30, Unit: "goroutines"}},
			Run:         runLeak,
		},
		{
			Fault:       "deadlock",
			Description: "transfers lock the source account then the destination, so A->B and B->A wait for each other forever",
			Symptom:     "transfer throughput falls to zero while goroutines pile up in sync.Mutex.Lock; the runtime reports nothing",
			Tool:        "grep -B2 -A8 'sync.Mutex.Lock' {dir}/goroutine.txt",
			Culprit:     runner.Culprit{Func: "bank.(*Bank).Transfer", Evidence: evidence.Goroutine},
			Checks: []runner.Check{
				{Metric: "transfers_per_second_last_second", Op: runner.Below, Threshold: 100, Unit: "transfers/s"},
				// The longest stretch with transfers pending and none completing. A deadlock
				// lasts the rest of the window; a busy machine can starve the fixed path for
				// a moment, never for a second.
				{Metric: "watchdog_longest_stall_seconds", Op: runner.Above, Threshold: 1, Unit: "s"},
			},
			Run: runDeadlock,
		},
		{
			Fault:       "cpu-spike",
			Description: "the sign-up validator compiles its regular expressions on every request",
			Symptom:     "CPU time per request grows more than 10x",
			Tool:        "go tool pprof -top -cum {dir}/cpu.pprof",
			Culprit: runner.Culprit{Func: "signup.(*Validator).Validate", Evidence: evidence.CPU,
				Frame: "regexp.MustCompile"},
			Checks: []runner.Check{{Metric: "cpu_us_per_request", Op: runner.Above, Threshold: cpuThreshold(), Unit: "µs"}},
			Run:    runCPUSpike,
		},
		{
			Fault:       "memory-bloat",
			Description: "a cache keeps each subject as a sub-slice of its 16 KiB frame, pinning the frame, and never evicts",
			Symptom:     "heap in-use grows with traffic while the cached data stays a few KiB",
			Tool:        "go tool pprof -top -sample_index=inuse_space {dir}/heap.pprof",
			Culprit:     runner.Culprit{Func: "msgcache.(*Cache).Receive", Evidence: evidence.Heap},
			Checks:      []runner.Check{{Metric: "heap_inuse_growth_mb", Op: runner.Above, Threshold: 4, Unit: "MiB"}},
			Run:         runMemoryBloat,
		},
	}}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// mix is a small stateless hash, so concurrent requests derive their own pseudo-random values
// from the run's seed (env.Rand is not safe for concurrent use).
func mix(seed, n uint64) uint64 {
	x := seed ^ (n * 0x9e3779b97f4a7c15)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
