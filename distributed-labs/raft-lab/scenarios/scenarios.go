// Package scenarios is lab 7's faults: a replicated KV on three node
// processes (cmd/node), broken through labkit's node control and
// network-fault proxies, with every client operation in a history that
// porcupine and the lab's invariant checks judge.
package scenarios

import (
	"context"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Title is the lab's title as the catalog lists it.
const Title = "Distributed systems"

// Lab is lab 7. program is the node executable: cmd/lab itself, or a test
// binary, which become a node when labkit/node starts them as a child.
func Lab(program string) runner.Lab {
	return runner.Lab{Number: 7, Title: Title, Window: 3 * time.Second, NoTrace: true, Preflight: checkBackend,
		Signals: []string{signalOps, signalErrors}, Scenarios: []runner.Scenario{
			{
				Fault:       "network-partition",
				Description: "nodes answer reads from their own copy, with no ReadIndex or leader check; the leader is cut off with a minority",
				Symptom:     "the cut-off old leader keeps answering with values older than acknowledged writes: porcupine rejects the history",
				Tool:        "open {dir}/linearizability.html   # then: grep 'stale read' {dir}/lab.log",
				// A wrong answer is in no profile. What it leaves is the
				// client's own freshness check: every answer carries the store
				// revision it reflects, and checkFresh warns when that is older
				// than a revision the client was already acknowledged. It runs
				// on every read; only an answer from a stale copy makes it warn.
				Culprit: runner.Culprit{Func: "kvhttp.(*Server).readLocal", Frame: "kvhttp.(*Client).checkFresh", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "stale_reads", Op: runner.Above, Threshold: 0.5, Unit: "reads"}},
				HistoryChecks: []runner.HistoryCheck{{Name: "linearizable",
					Check: history.Linearizable(history.KV(""), 30*time.Second)}},
				Run: func(ctx context.Context, env *runner.Env) error { return runPartition(ctx, env, program) },
			},
			{
				Fault:       "split-brain",
				Description: "the storage a lock protects takes every write, without checking the lock's fencing token",
				Symptom:     "a lock holder stopped past its lease resumes and writes after the new holder: two writers interleave in the storage",
				Tool:        "grep 'two writers interleaved' {dir}/lab.log",
				// The stale writes are in no profile either. The storage
				// audits every write it accepts, fenced or not; with fencing a
				// stale write is refused before it lands, so the audit is quiet.
				Culprit: runner.Culprit{Func: "lock.(*Storage).Write", Frame: "lock.(*Storage).audit", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "stale_writes_accepted", Op: runner.Above, Threshold: 0.5, Unit: "writes"}},
				Run:     func(ctx context.Context, env *runner.Env) error { return runSplitBrain(ctx, env, program) },
			},
			{
				Fault:       "clock-rollback",
				Description: "the snowflake generator trusts its clock: after the clock steps back it reuses milliseconds it already issued",
				Symptom:     "the uniqueness checker finds IDs issued twice by the node whose clock stepped back",
				Tool:        "grep 'duplicate id' {dir}/lab.log | head",
				// The checker reports what it finds on both paths; a generator
				// that waits out or refuses a rollback gives it nothing to find.
				Culprit: runner.Culprit{Func: "idgen.(*Snowflake).Next", Frame: "idgen.(*Checker).Report", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "duplicate_ids", Op: runner.Above, Threshold: 0.5, Unit: "ids"}},
				Run:     runClockRollback,
			},
			{
				Fault:       "zombie-instances",
				Description: "instances register without a lease or heartbeats, so one killed with -9 stays in the registry",
				Symptom:     "the balancer keeps sending a share of requests to the dead instance long after a lease would have ended",
				Tool:        "grep 'zombie registration' {dir}/lab.log",
				// The balancer warns about an instance that has failed for
				// longer than two leases while the registry still lists it.
				// With leases the dead instance leaves the list first.
				Culprit: runner.Culprit{Func: "discovery.(*Registry).Register", Frame: "discovery.(*Balancer).noteFailure", Evidence: evidence.Log},
				Checks:  []runner.Check{{Metric: "requests_to_dead_after_lease", Op: runner.Above, Threshold: 5, Unit: "requests"}},
				Run:     func(ctx context.Context, env *runner.Env) error { return runZombies(ctx, env, program) },
			},
			{
				Fault:       "leader-crash",
				Description: "the leader acknowledges a write when it takes it, and proposes it to the log in the background",
				Symptom:     "after kill -9 of the leader under load, writes the clients were told succeeded are missing",
				Tool:        "grep 'acknowledged write is missing' {dir}/lab.log | head",
				// The acknowledged-write audit runs on both paths; only writes
				// acknowledged before they were committed can go missing.
				Culprit:       runner.Culprit{Func: "kvhttp.(*Server).proposeAsync", Frame: "scenarios.auditAcknowledged", Evidence: evidence.Log},
				Checks:        []runner.Check{{Metric: "acknowledged_writes_lost", Op: runner.Above, Threshold: 0.5, Unit: "writes"}},
				HistoryChecks: []runner.HistoryCheck{{Name: "no-lost-writes", Check: history.NoLostWrites()}},
				Run:           func(ctx context.Context, env *runner.Env) error { return runLeaderCrash(ctx, env, program) },
			},
		}}
}
