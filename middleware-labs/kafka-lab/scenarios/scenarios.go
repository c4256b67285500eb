// Package scenarios holds lab 6's faults: consumer backlog, duplicate
// consumption, broken ordering and a rebalance storm. Producers and
// consumers are kafka-go clients against this lab's broker, which runs in
// the lab's process on a loopback listener.
package scenarios

import (
	"context"
	"os"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Lab is lab 6.
func Lab() runner.Lab {
	return runner.Lab{
		Number:    6,
		Title:     "Kafka",
		Window:    3 * time.Second,
		Preflight: preflight,
		Scenarios: []runner.Scenario{
			{
				Fault:       "consumer-backlog",
				Description: "one consumer reads all four partitions, calling the warehouse and committing its offset synchronously for every message",
				Symptom:     "consumer lag grows for as long as the producers write",
				Tool:        "grep 'consumer lag above' {dir}/lab.log | tail -3; go tool pprof -traces {dir}/goroutine.pprof | grep -B2 -A8 consumePerMessage",
				// The consumers are mostly waiting (on the warehouse, on the
				// coordinator), so a CPU profile of a 3 s window holds a few
				// hundred milliseconds of samples and ranks nothing reliably.
				// The lag alert, which runs on both paths, does: it fires while
				// the group is over 1000 messages behind and names the
				// members, partitions and consumption rate. The fixed path's
				// lag stays in the tens, so it never fires there.
				Culprit: runner.Culprit{Func: "scenarios.consumePerMessage", Frame: "scenarios.(*lagMonitor).check", Evidence: evidence.Log},
				Checks: []runner.Check{
					{Metric: "consumer_lag_end", Op: runner.Above, Threshold: 2000, Unit: "messages"},
					{Metric: "consumer_lag_slope", Op: runner.Above, Threshold: 500, Unit: "messages/s"},
				},
				Run: runBacklog,
			},
			{
				Fault:       "duplicate-consumption",
				Description: "consumers commit after processing (at-least-once) and crash between commits, and the ledger applies every delivery it gets",
				Symptom:     "payments redelivered after a crash move the balance twice: duplicate effects per processed message",
				Tool:        "grep -c '\"duplicate: payment applied again\"' {dir}/lab.log",
				// The defect is an absence (no dedupe key in the sink's
				// transaction), so no profile shows it; the consumer-side
				// checker does: it warns for every effect applied twice. With
				// the fix the redeliveries still happen, but none reaches the
				// balances, so the checker writes nothing.
				Culprit: runner.Culprit{Func: "scenarios.(*ledger).apply", Frame: "scenarios.(*audit).effect", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "duplicates_per_processed", Op: runner.Above, Threshold: 0.005, Unit: "duplicates/message"}},
				Run:     runDuplicates,
			},
			{
				Fault:       "ordering-broken",
				Description: "an entity's events are produced without a key, so the balancer spreads them over all four partitions, which are consumed in parallel",
				Symptom:     "consumers apply an entity's events out of the order they were produced",
				Tool:        "grep -c 'non-monotonic' {dir}/lab.log",
				// The missing key leaves nothing in a profile; the consumer-side
				// checker warns for every event older than one of the same
				// entity already applied. Keyed by entity, each entity's events
				// share one partition, and the checker writes nothing.
				Culprit: runner.Culprit{Func: "scenarios.orderEvent", Frame: "scenarios.(*orderChecker).observe", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "out_of_order_per_entity", Op: runner.Above, Threshold: 1, Unit: "events/entity"}},
				Run:     runOrdering,
			},
			{
				Fault:       "rebalance-storm",
				Description: "workers poll up to 500 jobs at a time, whose processing outlasts max.poll.interval, so members leave and rejoin the group over and over",
				Symptom:     "the group rebalances every few hundred milliseconds, and work done before each refused commit is done again",
				Tool:        "grep -c 'poll timeout expired' {dir}/lab.log; grep generation {dir}/../report.md",
				// Each leave is the watchdog's doing, and it says so: the
				// warning carries the time since the last poll. With bounded
				// polls no member ever reaches the interval, so it writes none.
				Culprit: runner.Culprit{Func: "scenarios.pollLimit", Frame: "scenarios.(*worker).watchdog", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "rebalances_per_min", Op: runner.Above, Threshold: 20, Unit: "rebalances/min"}},
				Run:     runStorm,
			},
		},
	}
}

// preflight says which broker the run uses. Every scenario starts this
// lab's own broker in process: its checks read the broker's coordinator
// (lag, generations), which a real Kafka does not expose that way.
func preflight(context.Context) (string, error) {
	used := "broker: this lab's own mini Kafka, one per scenario, in process on a loopback listener"
	if v := os.Getenv("KAFKA_BROKERS"); v != "" {
		used += " (KAFKA_BROKERS=" + v + " is not used by this lab yet)"
	}
	return used, nil
}
