package scenarios

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/lock"
	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// lockTTL is the workers' lease: long enough for keep-alives through Raft
// on a busy machine, short enough that the pause outlives it many times.
const lockTTL = 600 * time.Millisecond

// runSplitBrain: every node runs a lock worker that writes jobs to one
// protected storage (in the scenario's process) while it holds the lock.
// The holder is stopped with SIGSTOP in the middle of a job, stays stopped
// until another worker has the lock and has written, and is resumed: it
// finishes its job, still believing it holds the lock. Without fencing the
// storage takes those writes; with fencing it refuses them.
func runSplitBrain(ctx context.Context, env *runner.Env, program string) error {
	started := time.Now()
	store := lock.NewStorage(!env.FaultOn, env.Log)
	url, err := loopback.HTTP(env, store.Handler())
	if err != nil {
		return err
	}
	addr := strings.TrimPrefix(url, "http://")
	c, err := startCluster(ctx, env, program, 3, "-tick=250ms", "-lock-storage="+addr, "-lock-ttl="+lockTTL.String())
	if err != nil {
		return err
	}
	if err := counter(env, "raftlab_lock_stale_writes_accepted_total", "Writes the protected storage took from an older lock holder after a newer one's.",
		func() float64 { return float64(store.Counts().StaleAccepted) }); err != nil {
		return err
	}
	if err := counter(env, "raftlab_lock_stale_writes_rejected_total", "Writes the protected storage refused for a stale fencing token.",
		func() float64 { return float64(store.Counts().Rejected) }); err != nil {
		return err
	}
	env.Series("storage_writes_accepted", func() float64 { return float64(store.Counts().Accepted) })
	env.Series("storage_stale_writes_rejected", func() float64 { return float64(store.Counts().Rejected) })
	last := func() lock.Record {
		r := store.Records()
		if len(r) == 0 {
			return lock.Record{}
		}
		return r[len(r)-1]
	}
	// 1. A holder is writing.
	if err := until(ctx, "the first holder's writes", func() bool { return len(store.Records()) >= 10 }); err != nil {
		return err
	}
	holder := last()
	victim := c.node(holder.Writer)
	if victim == nil {
		return fmt.Errorf("scenarios: storage writer %q is not a node", holder.Writer)
	}
	// 2. Stop it mid-job: the next write it has in mind is already past its
	// lease check.
	n := len(store.Records())
	if err := until(ctx, "the holder's next write", func() bool { return len(store.Records()) > n }); err != nil {
		return err
	}
	if err := victim.Pause(); err != nil {
		return err
	}
	newer := func() bool {
		r := last()
		return r.Writer != holder.Writer && r.Token > holder.Token
	}
	if err := until(ctx, "another worker to take the lock and write", newer); err != nil {
		_ = victim.Resume()
		return err
	}
	env.Event("lock", fmt.Sprintf("%s holds the lock (token %d) while %s (token %d) is stopped",
		last().Writer, last().Token, holder.Writer, holder.Token))
	// 3. Resume it: it finishes its job.
	if err := victim.Resume(); err != nil {
		return err
	}
	stale := func() bool { cs := store.Counts(); return cs.Rejected+cs.StaleAccepted > 0 }
	_ = until(ctx, "the resumed holder's first write", stale) // absent is a verdict, not an error
	if rest := env.Duration - time.Since(started); rest > 0 {
		_ = sleep(ctx, rest)
	}
	cs := store.Counts()
	recordSignals(env, cs.Accepted+cs.Rejected, cs.Rejected)
	env.Record("stale_writes_accepted", float64(cs.StaleAccepted))
	env.Record("stale_writes_rejected", float64(cs.Rejected))
	env.Record("writes_accepted", float64(cs.Accepted))
	return nil
}
