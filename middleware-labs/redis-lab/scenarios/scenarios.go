// Package scenarios holds lab 5's faults: hot key, big key, cache penetration, cache avalanche
// and cache breakdown, each a real defect in the cache or server code switched by env.FaultOn.
package scenarios

import (
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Lab is lab 5.
func Lab() runner.Lab {
	return runner.Lab{
		Number:    5,
		Title:     "Redis",
		Window:    3 * time.Second,
		Preflight: preflight,
		Scenarios: []runner.Scenario{
			{
				Fault:       "hot-key",
				Description: "a Zipf workload reads its hottest keys from their slot's node on every request, so one node of a 3-node cluster serves most of the traffic",
				Symptom:     "per-node QPS skew: the busiest node runs far above the cluster mean",
				Tool:        "go tool pprof -top -focus 'fetch' {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "cache.(*ClusterReader).fetch", Evidence: evidence.CPU},
				Checks:      []runner.Check{{Metric: "node_qps_skew", Op: runner.Above, Threshold: 0.1, Unit: "max/mean-1"}},
				Run:         runHotKey,
			},
			{
				Fault:       "big-key",
				Description: "an export reads a hash of a million fields with one HGETALL, built whole under the executor lock",
				Symptom:     "every other client's request that overlaps the export waits for the whole reply to be built",
				Tool:        "go tool pprof -top -cum -focus serveConn {dir}/goroutine.pprof",
				Culprit:     runner.Culprit{Func: "server.cmdHGetAll", Frame: "Mutex).lockSlow", Evidence: evidence.Goroutine},
				Checks: []runner.Check{
					{Metric: "others_p99_during_export_ms", Op: runner.Above, Threshold: 30, Unit: "ms"},
					{Metric: "reply_buffer_peak_bytes", Op: runner.Above, Threshold: 1 << 20, Unit: "bytes"},
				},
				Run: runBigKey,
			},
			{
				Fault:       "cache-penetration",
				Description: "ids that do not exist are never cached, so every request for one goes to the database",
				Symptom:     "store queries per request stay high while the cache is warm",
				Tool:        "go tool pprof -top -focus 'Aside..fill' {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "cache.(*Aside).fill", Evidence: evidence.CPU},
				Checks:      []runner.Check{{Metric: "store_queries_per_request", Op: runner.Above, Threshold: 0.05}},
				Run:         runPenetration,
			},
			{
				Fault:       "cache-avalanche",
				Description: "the catalogue is warmed in one batch with one TTL, so every key expires in the same instant",
				Symptom:     "the store's load comes as one spike far above its mean instead of a steady trickle",
				Tool:        "go tool pprof -top -focus 'Aside..fill' {dir}/goroutine.pprof",
				Culprit:     runner.Culprit{Func: "cache.(*Aside).Warm", Frame: "cache.(*Aside).fill", Evidence: evidence.Goroutine, MinShare: 0.03},
				Checks:      []runner.Check{{Metric: "store_peak_to_mean", Op: runner.Above, Threshold: 7, Unit: "x"}},
				Run:         runAvalanche,
			},
			{
				Fault:       "cache-breakdown",
				Description: "when the hot top-sellers key expires, every concurrent request recomputes it",
				Symptom:     "dozens of identical expensive queries run at once after each expiry",
				Tool:        "go tool pprof -top -focus TopSellers {dir}/block.pprof",
				Culprit:     runner.Culprit{Func: "cache.(*Store).TopSellers", Evidence: evidence.Block},
				Checks:      []runner.Check{{Metric: "store_peak_concurrent_loads", Op: runner.Above, Threshold: 4}},
				Run:         runBreakdown,
			},
		},
	}
}
