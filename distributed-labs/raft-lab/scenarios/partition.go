package scenarios

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Client ids in the partition scenario's history.
const (
	writerID       = 0
	pinnedReaderID = 1 // reads only from the node that led when the cut came
	leaderReaderID = 2 // reads from whoever leads now
)

// partitionKeys are the registers the scenario writes: few enough that each
// is written often, two so the KV model's per-key split is exercised.
var partitionKeys = []string{"x", "y"}

// runPartition: one writer that follows the leader, one reader pinned to
// the first leader, one that follows the leader. The leader is cut off from
// both followers (its clients still reach it); the followers elect a new
// leader and writes go on there. With local reads the old leader answers
// from a copy that no longer moves; with linearizable reads it cannot
// confirm its leadership and refuses.
func runPartition(ctx context.Context, env *runner.Env, program string) error {
	reads := kvhttp.ReadLinearizable
	if env.FaultOn {
		reads = kvhttp.ReadLocal
	}
	started := time.Now()
	c, err := startCluster(ctx, env, program, 3, "-reads="+reads, "-tick=250ms")
	if err != nil {
		return err
	}
	old, err := c.leader(ctx)
	if err != nil {
		return err
	}
	env.Event("leader", old+" leads")
	cl := kvhttp.NewClient("partition", c.addrs, 500*time.Millisecond, kvhttp.WithLog(env.Log))
	defer cl.Close()
	if err := counter(env, "raftlab_stale_reads_total", "Reads whose answer was older than a write the client was already acknowledged.",
		func() float64 { return float64(cl.Stale()) }); err != nil {
		return err
	}
	h := env.History()

	var acked, pinnedAnswered atomic.Int64
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		every(load, 10*time.Millisecond, func(i int) {
			key, v := partitionKeys[i%len(partitionKeys)], strconv.Itoa(i)
			op := h.Invoke(writerID, "write", key, v)
			opCtx, cancel := context.WithTimeout(load, 2*time.Second)
			defer cancel()
			if _, err := cl.Put(opCtx, key, v); err != nil {
				op.Unknown(err) // it may have been applied: the client gave up, not the cluster
				return
			}
			op.OK("")
			acked.Add(1)
		})
	})
	read := func(id int, get func(ctx context.Context, key string) (kvhttp.GetReply, error), answered *atomic.Int64) {
		every(load, 10*time.Millisecond, func(i int) {
			key := partitionKeys[i%len(partitionKeys)]
			op := h.Invoke(id, "read", key, "")
			opCtx, cancel := context.WithTimeout(load, time.Second)
			defer cancel()
			got, err := get(opCtx, key)
			if err != nil {
				op.Unknown(err) // a read that did not answer had no effect either way
				return
			}
			op.OK(got.Value)
			if answered != nil {
				answered.Add(1)
			}
		})
	}
	wg.Go(func() {
		read(pinnedReaderID, func(ctx context.Context, key string) (kvhttp.GetReply, error) {
			return cl.GetFrom(ctx, old, key)
		}, &pinnedAnswered)
	})
	wg.Go(func() { read(leaderReaderID, cl.Get, nil) })
	defer func() { stop(); wg.Wait() }()

	more := func(n *atomic.Int64, k int64) func() bool {
		at := n.Load()
		return func() bool { return n.Load() >= at+k }
	}
	// 1. Healthy: writes and the pinned reads go through.
	if err := until(ctx, "writes before the partition", more(&acked, 6)); err != nil {
		return err
	}
	if err := until(ctx, "reads at the leader before the partition", more(&pinnedAnswered, 3)); err != nil {
		return err
	}
	// 2. The leader is cut off with a minority of one: itself.
	if err := c.net.Partition([]string{old}, c.others(old)); err != nil {
		return err
	}
	next, err := c.leader(ctx, c.others(old)...)
	if err != nil {
		return err
	}
	env.Event("leader", next+" leads the majority side")
	if err := until(ctx, "writes on the majority side", more(&acked, 10)); err != nil {
		return err
	}
	if err := until(ctx, "reads at the cut-off node", readsFinished(h, pinnedReaderID, 10)); err != nil {
		return err
	}
	// 3. Heal: the old leader rejoins as a follower and catches up.
	if err := c.net.Heal(); err != nil {
		return err
	}
	if err := until(ctx, "writes after the heal", more(&acked, 5)); err != nil {
		return err
	}
	if rest := env.Duration - time.Since(started); rest > 0 {
		_ = sleep(ctx, rest)
	}
	stop()
	wg.Wait()
	recordHistorySignals(env)
	env.Record("stale_reads", float64(staleReads(h.Ops())))
	env.Record("client_stale_warnings", float64(cl.Stale()))
	return nil
}

// readsFinished is true once client has finished k more reads since it was
// made, answered or not.
func readsFinished(h *history.Recorder, client, k int) func() bool {
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

// staleReads counts the reads that returned a value older than a write to
// the same key acknowledged before the read began. Values written to a key
// only grow, so "older" is a comparison of numbers.
func staleReads(ops []history.Op) int {
	n := 0
	for _, r := range ops {
		if r.Kind != "read" || r.Outcome != history.OK {
			continue
		}
		got, _ := strconv.Atoi(r.Output) // "" (never written) is 0
		newest := 0
		for _, w := range ops {
			if w.Kind == "write" && w.Key == r.Key && w.Outcome == history.OK && w.Return.Before(r.Call) {
				if v, _ := strconv.Atoi(w.Input); v > newest {
					newest = v
				}
			}
		}
		if got < newest {
			n++
		}
	}
	return n
}
