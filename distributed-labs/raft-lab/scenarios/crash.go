package scenarios

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// crashWriters write concurrently, each a new key per write, so that every
// acknowledged write is one element the final read must contain.
const (
	crashWriters = 8
	finalReader  = 99
)

// runLeaderCrash: writers put new keys through the leader; the leader is
// killed with -9 under that load; the others elect a new one and the
// writers follow it. The final read lists every key, and each write that
// was acknowledged must be in it.
func runLeaderCrash(ctx context.Context, env *runner.Env, program string) error {
	ack := kvhttp.AckCommit
	if env.FaultOn {
		ack = kvhttp.AckEarly
	}
	started := time.Now()
	c, err := startCluster(ctx, env, program, 3, "-tick=250ms", "-ack="+ack)
	if err != nil {
		return err
	}
	old, err := c.leader(ctx)
	if err != nil {
		return err
	}
	h := env.History()
	var acked, failed atomic.Int64
	var killedAt atomic.Int64
	var firstAfter atomic.Int64 // unix nanos of the first acknowledgement after the kill
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	clients := make([]*kvhttp.Client, crashWriters)
	for w := range crashWriters {
		clients[w] = kvhttp.NewClient(fmt.Sprintf("writer%d", w), c.addrs, 300*time.Millisecond)
		defer clients[w].Close()
		wg.Go(func() {
			every(load, 2*time.Millisecond, func(i int) {
				elem := fmt.Sprintf("%d-%d", w, i)
				op := h.Invoke(w, "add", "", elem)
				sent := time.Now().UnixNano()
				opCtx, cancel := context.WithTimeout(load, 3*time.Second)
				defer cancel()
				if _, err := clients[w].Put(opCtx, "w/"+elem, "1"); err != nil {
					op.Unknown(err)
					failed.Add(1)
					return
				}
				op.OK("")
				acked.Add(1)
				// Failover ends with the first write both sent and
				// acknowledged after the kill.
				if k := killedAt.Load(); k != 0 && sent > k {
					firstAfter.CompareAndSwap(0, time.Now().UnixNano())
				}
			})
		})
	}
	env.Series("writes_acknowledged", func() float64 { return float64(acked.Load()) })
	env.Series("writes_failed", func() float64 { return float64(failed.Load()) })
	if err := until(ctx, "writes before the crash", func() bool { return acked.Load() >= 200 }); err != nil {
		return err
	}
	killedAt.Store(time.Now().UnixNano())
	if err := c.node(old).Kill(); err != nil {
		return err
	}
	failedAtKill := failed.Load()
	next, err := c.leader(ctx, c.others(old)...)
	if err != nil {
		return err
	}
	env.Event("leader", next+" leads after the crash")
	if err := until(ctx, "writes after the crash", func() bool { return firstAfter.Load() != 0 && acked.Load() >= 400 }); err != nil {
		return err
	}
	if rest := env.Duration - time.Since(started); rest > 0 {
		_ = sleep(ctx, rest)
	}
	stop()
	wg.Wait()

	// The final read: every key, linearizably, from the new leader.
	reader := kvhttp.NewClient("final", c.addrs, time.Second)
	defer reader.Close()
	op := h.Invoke(finalReader, "read", "", "")
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	entries, err := reader.List(rctx, "w/")
	if err != nil {
		op.Unknown(err)
		return fmt.Errorf("scenarios: final read: %w", err)
	}
	var elems []string
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		elems = append(elems, strings.TrimPrefix(k, "w/"))
	}
	op.OK(strings.Join(elems, ","))

	lost := auditAcknowledged(env.Log, h.Ops(), entries)
	if err := counter(env, "raftlab_acknowledged_writes_lost_total", "Acknowledged writes missing from the final read.",
		func() float64 { return float64(lost) }); err != nil {
		return err
	}
	recordHistorySignals(env)
	env.Record("acknowledged_writes_lost", float64(lost))
	env.Record("writes_acknowledged", float64(acked.Load()))
	env.Record("writes_failed_after_kill", float64(failed.Load()-failedAtKill))
	env.Record("leader_failover_ms", float64(time.Duration(firstAfter.Load()-killedAt.Load()).Milliseconds()))
	blocked, longest := inFlightAt(h.Ops(), time.Unix(0, killedAt.Load()))
	env.Record("writes_in_flight_at_kill", float64(blocked))
	env.Record("longest_write_across_kill_ms", float64(longest.Milliseconds()))
	return nil
}

// auditAcknowledged is the acknowledged-write check: each write a client
// was told succeeded must be in the final read. It runs on both paths and
// warns once per missing write; it is quiet when nothing was lost.
func auditAcknowledged(log *zap.Logger, ops []history.Op, final map[string]kv.Entry) int {
	lost := 0
	for _, op := range ops {
		if op.Kind != "add" || op.Outcome != history.OK {
			continue
		}
		if _, ok := final["w/"+op.Input]; !ok {
			lost++
			if lost <= 50 {
				log.Warn("an acknowledged write is missing after the leader crash",
					zap.Int("client", op.Client), zap.String("key", "w/"+op.Input), zap.Time("acknowledged", op.Return))
			}
		}
	}
	return lost
}

// inFlightAt counts the writes that were in flight when the leader died
// (invoked before, returned after) and the longest of them: how long a
// client was blocked by the failover.
func inFlightAt(ops []history.Op, kill time.Time) (int, time.Duration) {
	n, longest := 0, time.Duration(0)
	for _, op := range ops {
		if op.Kind != "add" || !op.Call.Before(kill) || !op.Return.After(kill) {
			continue
		}
		n++
		longest = max(longest, op.Return.Sub(op.Call))
	}
	return n, longest
}
