// Package scenarios holds lab 4's faults on the embedded mini MySQL (the lab's own storage engine,
// executor and protocol server, in process): slow SQL, 索引失效 (an index that cannot be used),
// deadlocks, buffer-pool thrash and sharding traps. Each is a real defect switched by env.FaultOn.
package scenarios

import (
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Lab is lab 4.
func Lab() runner.Lab {
	return runner.Lab{
		Number:  4,
		Title:   "MySQL",
		Window:  3 * time.Second,
		Signals: []string{"query_p99_ms", "queries_per_second"},
		Scenarios: []runner.Scenario{
			{
				Fault:       "slow-sql",
				Description: "the order-history query filters on orders.user_id, which has no index, so every call scans the whole table",
				Symptom:     "rows examined per query ≈ the table size (EXPLAIN type=ALL) and the statements land in the slow log",
				Tool:        "go tool pprof -top -focus scanRows {dir}/cpu.pprof; cat {dir}/explain.txt {dir}/mini-mysql-slow.log",
				Culprit:     runner.Culprit{Func: "executor.(*Session).scanRows", Evidence: evidence.CPU},
				Checks: []runner.Check{
					{Metric: "rows_examined_per_query", Op: runner.Above, Threshold: 1000, Unit: "rows"},
					{Metric: "slow_query_share", Op: runner.Above, Threshold: 0.5},
				},
				Run: runSlowSQL,
			},
			{
				Fault:       "index-not-used",
				Description: "five queries that defeat their index (索引失效): a function on the column, a VARCHAR compared with a number, a leading-wildcard LIKE, an OR with an unindexed column, a composite index without its leftmost column",
				Symptom:     "EXPLAIN shows type=ALL with the index in plain sight; every query examines the whole table",
				Tool:        "cat {dir}/explain.txt; go tool pprof -top -focus scanRows {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "executor.(*Session).scanRows", Evidence: evidence.CPU},
				Checks: []runner.Check{
					{Metric: "rows_examined_per_query", Op: runner.Above, Threshold: 1000, Unit: "rows"},
					{Metric: "full_scan_share", Op: runner.Above, Threshold: 0.5},
					{Metric: "rows_examined_function_on_column", Op: runner.Above, Threshold: 1000, Unit: "rows"},
					{Metric: "rows_examined_implicit_conversion", Op: runner.Above, Threshold: 1000, Unit: "rows"},
					{Metric: "rows_examined_leading_wildcard", Op: runner.Above, Threshold: 1000, Unit: "rows"},
					{Metric: "rows_examined_or_unindexed_column", Op: runner.Above, Threshold: 1000, Unit: "rows"},
					{Metric: "rows_examined_composite_no_leftmost_prefix", Op: runner.Above, Threshold: 1000, Unit: "rows"},
				},
				Run: runIndexNotUsed,
			},
			{
				Fault:       "deadlock",
				Description: "transfers update their two accounts in request order, so A→B and B→A lock the same rows in opposite orders",
				Symptom:     "ERROR 1213 deadlocks every second; SHOW ENGINE INNODB STATUS shows LATEST DETECTED DEADLOCK",
				Tool:        "cat {dir}/innodb_status.txt; go tool pprof -top -focus transferInRequestOrder {dir}/block.pprof",
				Culprit:     runner.Culprit{Func: "scenarios.transferInRequestOrder", Evidence: evidence.Block},
				Checks:      []runner.Check{{Metric: "deadlocks_per_second", Op: runner.Above, Threshold: 1, Unit: "/s"}},
				Run:         runDeadlock,
			},
		},
	}
}

// BufferPoolThrash is the buffer-pool-thrash fault. Its symptom is measured and separates the paths
// (TestBufferPoolThrash), but it is not yet one of the lab's scenarios: its culprit, the plain LRU
// policy's touch, carries only ~0.5% of the CPU profile, too little for labtest's evidence check to
// pass reliably. A profile of page misses attributed to the lookups would make it one.
func BufferPoolThrash() runner.Scenario {
	return runner.Scenario{
		Fault:       "buffer-pool-thrash",
		Description: "a report scans a table thirteen times the buffer pool through plain LRU, which puts every scanned page at the head",
		Symptom:     "the point lookups' buffer-pool hit ratio collapses after every scan",
		Tool:        "go tool pprof -top -focus 'bufpool.\\(\\*lru\\)' {dir}/cpu.pprof",
		Culprit:     runner.Culprit{Func: "bufpool.(*lru).touch", Evidence: evidence.CPU},
		Checks: []runner.Check{
			{Metric: "lookup_hit_ratio", Op: runner.Below, Threshold: 0.95},
			{Metric: "lookup_misses_per_scan", Op: runner.Above, Threshold: 5, Unit: "misses"},
		},
		Run: runBufferPoolThrash,
	}
}
