package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/idgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// skewedClock is the machine's clock plus an offset the scenario moves:
// the injected clock of one ID node (never the system's own).
type skewedClock struct{ offset atomic.Int64 }

func (c *skewedClock) Now() time.Time        { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *skewedClock) Sleep(d time.Duration) { time.Sleep(d) }
func (c *skewedClock) step(d time.Duration)  { c.offset.Add(int64(d)) }

// ID load: each generator issues idBatch IDs, then pauses idPause; about
// 200k IDs a second per node, a few million per run.
const (
	idNodes = 3
	idBatch = 200
	idPause = time.Millisecond
)

// runClockRollback: three snowflake nodes issue IDs into one uniqueness
// checker. node2's clock steps back 20 ms (an NTP correction; within what
// the generator waits out), then node3's steps back 300 ms (beyond it).
func runClockRollback(ctx context.Context, env *runner.Env) error {
	started := time.Now()
	var checker idgen.Checker
	clocks := make([]*skewedClock, idNodes)
	var issued, refused atomic.Int64
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range idNodes {
		clocks[i] = &skewedClock{}
		g, err := idgen.NewSnowflake(idgen.Config{Node: i + 1, Clock: clocks[i], MaxWait: 50 * time.Millisecond,
			TrustClock: env.FaultOn})
		if err != nil {
			stop()
			return err
		}
		wg.Go(func() {
			node.Label(load, fmt.Sprintf("node%d", i+1), func(ctx context.Context) { issue(ctx, g, &checker, &issued, &refused) })
		})
	}
	defer func() { stop(); wg.Wait() }()
	var duplicates atomic.Int64
	if err := counter(env, "raftlab_duplicate_ids_total", "IDs the uniqueness checker found issued more than once.",
		func() float64 { return float64(duplicates.Load()) }); err != nil {
		stop()
		return err
	}
	env.Series("ids_issued", func() float64 { return float64(issued.Load()) })
	env.Series("ids_refused", func() float64 { return float64(refused.Load()) })

	phase := env.Duration / 3
	if err := sleep(ctx, phase); err != nil {
		return err
	}
	clocks[1].step(-20 * time.Millisecond)
	env.Event("clock-rollback", "node2's clock steps back 20ms")
	if err := sleep(ctx, phase); err != nil {
		return err
	}
	clocks[2].step(-300 * time.Millisecond)
	env.Event("clock-rollback", "node3's clock steps back 300ms")
	if rest := env.Duration - time.Since(started); rest > 0 {
		_ = sleep(ctx, rest)
	}
	stop()
	wg.Wait()
	recordSignals(env, int(issued.Load()+refused.Load()), int(refused.Load()))
	dups, extra := checker.Report(env.Log, 50)
	duplicates.Store(int64(len(dups)))
	env.Record("duplicate_ids", float64(len(dups)))
	env.Record("duplicate_copies", float64(extra))
	env.Record("ids_checked", float64(checker.Len()))
	env.Record("ids_refused", float64(refused.Load()))
	return nil
}

func issue(ctx context.Context, g *idgen.Snowflake, checker *idgen.Checker, issued, refused *atomic.Int64) {
	batch := make([]int64, 0, idBatch)
	for ctx.Err() == nil {
		batch = batch[:0]
		for range idBatch {
			id, err := g.Next()
			if errors.Is(err, idgen.ErrClockRollback) {
				refused.Add(1)
				break // the node is unavailable until its clock catches up
			}
			batch = append(batch, id)
		}
		checker.Add(batch)
		issued.Add(int64(len(batch)))
		_ = sleep(ctx, idPause)
	}
}
