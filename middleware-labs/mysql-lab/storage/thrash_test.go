package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/stretchr/testify/require"
)

// TestAScanThrashesLRUButNotMidpoint is the buffer-pool-thrash fault through
// the engine, on the real clock: point lookups on a hot range of 300 rows (about 16 leaves, well inside the young sublist),
// with a full scan of a 20,000-row table (about 20 times the pool) running
// beside them, one lookup per 100 rows scanned (a report reads faster than
// OLTP looks up). The lookups' hit ratio is
// measured from the pool's counters around each lookup.
func TestAScanThrashesLRUButNotMidpoint(t *testing.T) {
	const lookupEvery, hotRows = 100, 300
	ctx := context.Background()
	ratio := map[bufpool.Policy]float64{}
	for _, policy := range bufpool.Policies {
		dir := t.TempDir()
		e := open(t, dir, func(o *Options) { o.Policy = policy })
		require.NoError(t, e.CreateTree("t"))
		val := make([]byte, 100)
		for i := 0; i < 20; i++ {
			tx := e.Begin()
			for j := 0; j < 1000; j++ {
				require.NoError(t, tx.Put(ctx, "t", fmt.Appendf(nil, "%08d", i*1000+j), val))
			}
			require.NoError(t, tx.Commit(ctx))
		}
		rng := rand.New(rand.NewPCG(1, 1))
		reader := e.Begin()
		lookup := func() (hit bool) {
			before := e.pool.Stats()
			_, ok, err := reader.Get(ctx, "t", fmt.Appendf(nil, "%08d", rng.IntN(hotRows)))
			require.NoError(t, err)
			require.True(t, ok)
			return e.pool.Stats().Misses == before.Misses
		}
		// OLTP traffic has had the hot set to itself for a while (here 100 ms,
		// far longer than OldBlocksTime) and the load's dirty pages are flushed.
		for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
			lookup()
		}
		require.NoError(t, e.Checkpoint())
		hits, n, rows := 0, 0, 0
		scan := e.Begin()
		require.NoError(t, scan.Scan(ctx, "t", nil, nil, func(_, _ []byte) bool {
			rows++
			if rows%lookupEvery == 0 {
				n++
				if lookup() {
					hits++
				}
			}
			return true
		}))
		require.Equal(t, 20000, rows)
		require.Equal(t, 20000/lookupEvery, n)
		ratio[policy] = float64(hits) / float64(n)
		t.Logf("%-8s point-lookup hit ratio during the scan: %.3f (%d lookups)", policy, ratio[policy], n)
		require.NoError(t, e.Close())
	}
	// The symptom is the misses: LRU's point lookups go to disk a large share
	// of the time, midpoint's and LRU-K's at least ten times less often.
	lruMiss := 1 - ratio[bufpool.LRU]
	require.Greater(t, lruMiss, 0.25)
	require.LessOrEqual(t, 1-ratio[bufpool.Midpoint], lruMiss/10)
	require.LessOrEqual(t, 1-ratio[bufpool.LRUK], lruMiss/10)
}
