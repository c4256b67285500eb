package register

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Lab is the example cluster as a lab of one scenario. program is the node
// executable: cmd/register-node, or a test binary that becomes one.
func Lab(program string) runner.Lab {
	return runner.Lab{Number: 9, Title: "Example cluster: a replicated register", Scenarios: []runner.Scenario{{
		Fault:       "stale-read",
		Description: "a node answers reads from its own copy, even when it is cut off from the primary",
		Symptom:     "reads on the partitioned node return values older than acknowledged writes",
		// A wrong answer is not in a profile: the history is the evidence.
		Tool:    "open {dir}/linearizability.html   # the red bar is the read no order of the history explains",
		Window:  3 * time.Second,
		NoTrace: true,
		Culprit: runner.Culprit{Func: "register.(*Server).handleRead", Evidence: evidence.CPU, Node: runner.AnyNode},
		HistoryChecks: []runner.HistoryCheck{{Name: "linearizable",
			Check: history.Linearizable(history.Register(""), 30*time.Second)}},
		Run: func(ctx context.Context, env *runner.Env) error { return run(ctx, env, program) },
	}}}
}

// opsEvery paces each client: enough operations to fill a history, few
// enough that porcupine and two shared cores keep up.
const opsEvery = 15 * time.Millisecond

// run is the scenario: one writer on the primary, a reader on each other
// node, and the network and processes broken in four phases. Each phase
// waits for the operations it needs rather than for a fixed time, so the
// history has the same shape on a fast machine and a loaded one.
func run(ctx context.Context, env *runner.Env, program string) error {
	reads := ReadQuorum
	if env.FaultOn {
		reads = ReadLocal
	}
	started := time.Now()
	c, err := StartCluster(ctx, env, program, 3, "-reads="+reads)
	if err != nil {
		return err
	}
	h := env.History()
	names := c.Names() // node1 (the primary), node2, node3
	conns := make([]*Conn, len(names))
	for i, name := range names {
		if conns[i], err = c.Conn(i, name, h); err != nil {
			return err
		}
		defer conns[i].Close()
	}

	// acked counts the writer's acknowledged writes, answered[i] the reads
	// node i+1 answered: the phases below wait on them.
	var acked atomic.Int64
	answered := make([]atomic.Int64, len(names))
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		every(load, func(i int) {
			if conns[0].Write(load, strconv.Itoa(i)) == nil {
				acked.Add(1)
			}
		})
	})
	for i := 1; i < len(names); i++ {
		wg.Go(func() {
			every(load, func(int) {
				if _, err := conns[i].Read(load); err == nil {
					answered[i].Add(1)
				}
			})
		})
	}
	defer func() { stop(); wg.Wait() }()

	more := func(n *atomic.Int64, k int64) func() bool {
		at := n.Load()
		return func() bool { return n.Load() >= at+k }
	}
	follower, cut := c.Nodes.Node(2), names[2]

	// 1. Healthy: the register works.
	if err := until(ctx, "writes before the kill", more(&acked, 5)); err != nil {
		return err
	}
	// 2. A follower dies and comes back: the primary and node3 are still
	// a majority, so writes go on; node2 returns with what it had on disk.
	if err := follower.Kill(); err != nil {
		return err
	}
	if err := until(ctx, "writes while node2 is down", more(&acked, 3)); err != nil {
		return err
	}
	if err := follower.Restart(ctx); err != nil {
		return err
	}
	if err := until(ctx, "reads from the restarted node2", more(&answered[1], 3)); err != nil {
		return err
	}
	// 3. node3 is cut off from the other nodes (its clients still reach
	// it). Writes go on with node1 and node2; what node3 answers now is
	// the difference between the two read paths.
	if err := c.Net.Partition([]string{cut}, names[:2]); err != nil {
		return err
	}
	if err := until(ctx, "writes during the partition", more(&acked, 5)); err != nil {
		return err
	}
	if err := until(ctx, "reads at node3 during the partition", readsAttempted(h, 2, 3)); err != nil {
		return err
	}
	// 4. Heal: node3 catches up and answers again.
	if err := c.Net.Heal(); err != nil {
		return err
	}
	if err := until(ctx, "reads at node3 after heal", more(&answered[2], 3)); err != nil {
		return err
	}
	// Keep the load on until the window closes, so that every node's
	// profiles cover the whole run.
	if rest := env.Duration - time.Since(started); rest > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(rest):
		}
	}
	return nil
}

// readsAttempted is true once client has invoked k more reads, each
// finished, since it was made.
func readsAttempted(h *history.Recorder, client, k int) func() bool {
	count := func() (n int) {
		for _, op := range h.Ops() {
			if op.Client == client && op.Kind == "read" && !op.Return.IsZero() {
				n++
			}
		}
		return n
	}
	at := count()
	return func() bool { return count() >= at+k }
}

// every calls op(1), op(2), ... one at a time, at most once per opsEvery,
// until ctx ends.
func every(ctx context.Context, op func(i int)) {
	t := time.NewTicker(opsEvery)
	defer t.Stop()
	for i := 1; ctx.Err() == nil; i++ {
		op(i)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// phaseTimeout bounds one phase: far beyond what a loaded machine needs,
// short of the runner's own deadline.
const phaseTimeout = 15 * time.Second

// until polls cond until it holds, ctx ends or phaseTimeout passes.
func until(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(phaseTimeout)
	for !cond() {
		if ctx.Err() != nil {
			return fmt.Errorf("register: waiting for %s: %w", what, ctx.Err())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s did not happen within %s", ErrNoProgress, what, phaseTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
