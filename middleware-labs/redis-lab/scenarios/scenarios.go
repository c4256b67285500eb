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
				Description: "a Zipf workload hammers one key, so one node of a 3-node cluster serves most of the traffic",
				Symptom:     "per-node QPS skew: the busiest node runs far above the cluster mean",
				Tool:        "go tool pprof -top -focus 'fetch' {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "cache.(*ClusterReader).fetch", Evidence: evidence.CPU},
				Checks:      []runner.Check{{Metric: "node_qps_skew", Op: runner.Above, Threshold: 0.1, Unit: "max/mean-1"}},
				Run:         runHotKey,
			},
			{
				Fault:       "big-key",
				Description: "DEL of two hashes of a million fields each frees them field by field inside the single command executor",
				Symptom:     "every other client's request that overlaps the DEL waits for all of it",
				Tool:        "go tool pprof -top -focus freeValue {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "store.(*DB).freeValue", Evidence: evidence.CPU, MinShare: 0.1},
				Checks: []runner.Check{
					{Metric: "others_max_latency_during_delete_ms", Op: runner.Above, Threshold: 100, Unit: "ms"},
					{Metric: "delete_ms", Op: runner.Above, Threshold: 100, Unit: "ms"},
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
				Description: "every key warmed together gets the same TTL, so they all expire in the same instant",
				Symptom:     "store queries arrive in a spike at each expiry instead of a trickle",
				Tool:        "go tool pprof -top -focus 'Aside..fill' {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "cache.(*Aside).fill", Evidence: evidence.CPU, MinShare: 0.05},
				Checks:      []runner.Check{{Metric: "store_peak_queries_per_250ms", Op: runner.Above, Threshold: 150}},
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
