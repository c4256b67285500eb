// Package scenarios declares lab 0's faults for the labkit runner: how each
// one is driven, which metrics show it, and where its culprit lives.
package scenarios

import (
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Lab is lab 0, the engineering template.
func Lab() runner.Lab {
	return runner.Lab{
		Number: 0,
		Title:  "Engineering template",
		Window: 3 * time.Second,
		Scenarios: []runner.Scenario{
			{
				Fault:       "no-graceful-shutdown",
				Description: "SIGTERM closes every connection instead of draining in-flight requests",
				Symptom:     "requests in flight at a restart are cut off: clients see EOF, the server logs 502s",
				Tool:        "grep 'cut off mid-flight' {dir}/lab.log; grep -c '\"status\":50' {dir}/access.log",
				// A skipped drain leaves no trace in any profile: nothing
				// waited. What it leaves is the requests it cut off: each
				// handler finds its connection gone and CutOff logs a
				// warning for it. A drained request finishes normally and
				// writes none, so with the fault off the frame is absent. (The
				// compiler inlines CutOff into server.New, and zap names the
				// closure after where it landed: match the name alone.)
				Culprit: runner.Culprit{Func: "server.(*Server).stop", Frame: "CutOff", Evidence: evidence.Log},
				Checks: []runner.Check{
					{Metric: "aborted_requests_metric", Op: runner.Above, Threshold: 3, Unit: "requests"},
					{Metric: "old_instance_5xx", Op: runner.Above, Threshold: 3, Unit: "requests"},
				},
				Run: runRestart,
			},
			{
				Fault:       "sync-logging",
				Description: "every access-log line is written under one shared lock, waiting for a log shipper that is behind",
				Symptom:     "latency grows for as long as load lasts; goroutines queue on the log mutex",
				Tool:        "go tool pprof -top {dir}/mutex.pprof",
				Culprit:     runner.Culprit{Func: "logsink.(*SyncFile).Write", Evidence: evidence.Mutex},
				// The fault caps throughput at what the log shipper takes,
				// below the offered rate, so the queue and the latency grow
				// all window long (p50/p99 are in the report). The check
				// measures the defect's own cost, which does not depend on
				// how busy the machine is: a line written under the lock
				// waits for the shipper to make room in the pipe; a line
				// copied into the fixed path's buffer waits for nothing.
				// The contention itself is proven by the culprit check: the
				// sink's lock carries the mutex profile. (Process-wide mutex
				// wait is recorded too, but it also counts the load
				// generator's own HTTP client.)
				Checks: []runner.Check{
					{Metric: "access_log_write_p50_ms", Op: runner.Above, Threshold: 1, Unit: "ms"},
				},
				Run: runSyncLogging,
			},
			{
				Fault:       "no-server-timeouts",
				Description: "http.Server without header/read/idle timeouts or a connection limit",
				Symptom:     "goroutines and open connections grow with the number of slow clients",
				Tool:        "go tool pprof -traces {dir}/goroutine.pprof | grep -A3 readRequest",
				Culprit: runner.Culprit{Func: "server.newHTTPServer", Evidence: evidence.Goroutine,
					// The missing setting shows as goroutines parked reading headers.
					Frame: "net/http.(*conn).readRequest"},
				Checks: []runner.Check{
					{Metric: "open_connections", Op: runner.Above, Threshold: 100, Unit: "conns"},
					{Metric: "goroutine_growth", Op: runner.Above, Threshold: 100, Unit: "goroutines"},
				},
				Run: runSlowClients,
			},
		},
	}
}
