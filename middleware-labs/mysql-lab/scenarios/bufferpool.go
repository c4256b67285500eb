package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
)

const (
	hotRows    = 400   // the working set: ~25 pages of 4 KiB
	reportRows = 20000 // the report's table: ~1,300 pages, thirteen times the pool
	poolFrames = 96
)

// runBufferPoolThrash: point lookups on a small hot table share a 96-frame buffer pool with a
// report that scans a table thirteen times the pool. With the fault on the pool is plain LRU: every
// page the scan reads goes to the head of the list, so one pass pushes the whole hot set out and
// the next lookups miss. The fix is InnoDB's midpoint insertion: a page enters the old sublist and
// reaches the young one only when it is read again after old_blocks_time, which a scan's pages
// never are. The lookups' hit ratio is measured between scans, from the pool's own counters.
func runBufferPoolThrash(ctx context.Context, env *runner.Env) error {
	policy := bufpool.Midpoint
	if env.FaultOn {
		policy = bufpool.LRU
	}
	st, err := startStack(env, stackOptions{frames: poolFrames, pageSize: 4096, policy: policy, oldBlocksTime: 500 * time.Millisecond, registerer: env.Metrics})
	if err != nil {
		return err
	}
	pad := strings.Repeat("x", 150)
	if err := st.load(ctx, "CREATE TABLE hot (id INT NOT NULL PRIMARY KEY, v VARCHAR(200))", "hot", hotRows,
		func(i int) string { return fmt.Sprintf("(%d, '%s')", i+1, pad) }); err != nil {
		return err
	}
	if err := st.load(ctx, "CREATE TABLE report (id INT NOT NULL PRIMARY KEY, v VARCHAR(200))", "report", reportRows,
		func(i int) string { return fmt.Sprintf("(%d, '%s')", i+1, pad) }); err != nil {
		return err
	}
	sess := st.ex.NewSession()
	defer sess.Close()
	r := rand.New(rand.NewPCG(env.Seed, 5))
	lookups := func(n int, lat *latencies) error {
		for range n {
			t0 := time.Now()
			if _, err := sess.Exec(ctx, "SELECT v FROM hot WHERE id = ?", int64(1+r.IntN(hotRows))); err != nil {
				return err
			}
			if lat != nil {
				lat.add(time.Since(t0))
			}
		}
		return nil
	}
	// Warm the hot set twice, old_blocks_time apart, so midpoint has it in the young sublist.
	if err := lookups(2000, nil); err != nil {
		return err
	}
	time.Sleep(600 * time.Millisecond)
	if err := lookups(2000, nil); err != nil {
		return err
	}
	var lat latencies
	var hits, misses uint64
	deadline := time.Now().Add(env.Duration)
	passes := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := sess.Exec(ctx, "SELECT COUNT(*) FROM report WHERE v LIKE '%y%'"); err != nil {
			return err
		}
		passes++
		before := st.eng.Stats()
		if err := lookups(50, &lat); err != nil {
			return err
		}
		after := st.eng.Stats()
		hits += after.Hits - before.Hits
		misses += after.Misses - before.Misses
	}
	if hits+misses == 0 {
		return fmt.Errorf("buffer-pool-thrash: no lookup ran in the window")
	}
	env.Event("report", fmt.Sprintf("%d scans of %d rows with policy %s", passes, reportRows, policy))
	env.Record("lookup_hit_ratio", float64(hits)/float64(hits+misses))
	env.Record("lookup_misses_per_scan", float64(misses)/float64(max(passes, 1)))
	env.Record("lookup_p99_ms", lat.quantileMs(0.99))
	env.Record("query_p99_ms", lat.quantileMs(0.99))
	env.Record("queries_per_second", float64(lat.count())/env.Duration.Seconds())
	return nil
}
