package bufpool

import (
	"flag"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: from the clock)")

func seed(t testing.TB) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed=%d (replay with -seed=%d)", s, s)
	return s
}

// fakeClock advances one millisecond per reading: time is counted in page accesses.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { c.t = c.t.Add(time.Millisecond); return c.t }

// newFile makes a data file of n pages (plus the meta page) of 512 bytes.
func newFile(t testing.TB, n int) *pager.Pager {
	t.Helper()
	pg, err := pager.Open(filepath.Join(t.TempDir(), "data"), pager.MinPageSize)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	batch := map[uint64][]byte{}
	for i := 0; i < n; i++ {
		id := pg.Grow()
		b := make([]byte, pager.MinPageSize)
		b[4] = pager.TypeLeaf
		batch[id] = b
	}
	require.NoError(t, pg.WriteBatch(batch))
	return pg
}

func TestPinnedAndDirtyPagesAreNeverEvicted(t *testing.T) {
	for _, policy := range Policies {
		t.Run(policy.String(), func(t *testing.T) {
			pg := newFile(t, 20)
			p, err := New(pg, Options{Frames: 8, Policy: policy})
			require.NoError(t, err)
			var pinned []*Page
			for id := uint64(1); id <= 4; id++ {
				page, err := p.Fetch(id)
				require.NoError(t, err)
				pinned = append(pinned, page)
			}
			for id := uint64(5); id <= 8; id++ {
				page, err := p.Fetch(id)
				require.NoError(t, err)
				page.Data[100] = byte(id)
				p.Unpin(page, true)
			}
			_, err = p.Fetch(9)
			require.ErrorIs(t, err, ErrNoFrame, "4 pinned + 4 dirty frames: nothing to evict")
			require.NoError(t, p.Checkpoint())
			for id := uint64(9); id <= 12; id++ { // the 4 clean ones go; the pinned stay
				page, err := p.Fetch(id)
				require.NoError(t, err)
				p.Unpin(page, false)
			}
			for _, page := range pinned {
				require.Equal(t, page.ID, p.frames[page.frame].id)
				p.Unpin(page, false)
			}
			page, err := p.Fetch(6) // written by the checkpoint, read back
			require.NoError(t, err)
			require.Equal(t, byte(6), page.Data[100])
			p.Unpin(page, false)
		})
	}
}

func TestMetricsCountHitsMissesEvictions(t *testing.T) {
	reg := prometheus.NewRegistry()
	p, err := New(newFile(t, 20), Options{Frames: 8, Policy: LRU, Registerer: reg})
	require.NoError(t, err)
	for _, id := range []uint64{1, 2, 1, 3, 4, 5, 6, 7, 8, 9, 10} {
		page, err := p.Fetch(id)
		require.NoError(t, err)
		p.Unpin(page, false)
	}
	require.Equal(t, float64(1), testutil.ToFloat64(p.m.hits))
	require.Equal(t, float64(10), testutil.ToFloat64(p.m.misses))
	require.Equal(t, float64(2), testutil.ToFloat64(p.m.evictions))
	n, err := testutil.GatherAndCount(reg, "mysqllab_bufpool_hits_total")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = New(newFile(t, 1), Options{Frames: 8, Policy: LRU, Registerer: reg})
	require.ErrorContains(t, err, "mysqllab_bufpool_hits_total", "a second pool on the same registry is an error naming the metric")
}

// scanPlusZipf is the workload: 6,400 pages, 64 frames, point lookups
// whose page follows a Zipf distribution (s=1.1) over a shuffled page order,
// interleaved with a sequential scan of the whole file that reads
// scanPagesPerLookup pages per lookup (a report running beside OLTP: a scan
// reads pages faster than point lookups do). It returns the point lookups' hit ratio.
const scanPagesPerLookup = 4

func scanPlusZipf(t testing.TB, pg *pager.Pager, policy Policy, scan bool, seed uint64, lookups int) float64 {
	const pages = 6400
	clock := &fakeClock{t: time.Unix(0, 0)}
	p, err := New(pg, Options{Frames: 64, Policy: policy, Now: clock.now})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, pages-1)
	perm := rng.Perm(pages)
	touch := func(id uint64) {
		page, err := p.Fetch(id)
		require.NoError(t, err)
		p.Unpin(page, false)
	}
	var hits, total uint64
	next := 0
	for i := 0; i < lookups; i++ {
		before := p.hits.Load()
		touch(uint64(perm[zipf.Uint64()] + 1))
		hits += p.hits.Load() - before
		total++
		for j := 0; scan && j < scanPagesPerLookup; j++ {
			touch(uint64(next + 1))
			next = (next + 1) % pages
		}
	}
	return float64(hits) / float64(total)
}

// TestAScanEvictsTheHotSetUnderLRUOnly is the buffer-pool-thrash fault at the
// level of the pool: the hit ratio of the point lookups collapses under plain
// LRU when a scan runs beside them, and holds under midpoint and LRU-K.
func TestAScanEvictsTheHotSetUnderLRUOnly(t *testing.T) {
	s := seed(t)
	pg := newFile(t, 6400)
	ratio := map[Policy]map[bool]float64{}
	for _, policy := range Policies {
		ratio[policy] = map[bool]float64{}
		for _, scan := range []bool{false, true} {
			ratio[policy][scan] = scanPlusZipf(t, pg, policy, scan, s, 20000)
			t.Logf("%-8s scan=%-5v point-lookup hit ratio %.3f", policy, scan, ratio[policy][scan])
		}
	}
	lruLoss := ratio[LRU][false] - ratio[LRU][true]
	for _, policy := range []Policy{LRUK, Midpoint} {
		loss := ratio[policy][false] - ratio[policy][true]
		require.Less(t, loss*3, lruLoss, "%s should lose far less hit ratio to the scan than LRU", policy)
		require.Greater(t, ratio[policy][true], ratio[LRU][true]+0.1, "%s should keep the hot set through the scan", policy)
	}
}

// BenchmarkScanPlusZipf reports each policy's point-lookup hit ratio on the
// issue's workload (hit-%); ns/op is the cost of one lookup plus one scan step.
func BenchmarkScanPlusZipf(b *testing.B) {
	pg := newFile(b, 6400)
	for _, policy := range Policies {
		b.Run("policy="+policy.String(), func(b *testing.B) {
			r := scanPlusZipf(b, pg, policy, true, 1, max(b.N, 1000))
			b.ReportMetric(100*r, "hit-%")
		})
	}
}

// touchAll fetches and unpins each page in order, one clock tick apart.
func touchAll(t *testing.T, p *Pool, ids ...uint64) {
	t.Helper()
	for _, id := range ids {
		page, err := p.Fetch(id)
		require.NoError(t, err)
		p.Unpin(page, false)
	}
}

func resident(p *Pool, id uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.table[id]
	return ok
}

// Each policy's defining choice, on an 8-frame pool: pages 17-20 are read
// once, pages 1-4 are hot (read, then read again later), then a scan reads
// pages 5-12 once each: as many pages as the pool has frames.
func TestEachPolicyKeepsWhatItShould(t *testing.T) {
	for _, tc := range []struct {
		policy  Policy
		hotKept bool
	}{
		{LRU, false},     // the scan is more recent than the hot pages: they go
		{LRUK, true},     // scan pages have one reference, hot pages two
		{Midpoint, true}, // scan pages enter the old sublist and leave from it
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(0, 0)}
			p, err := New(newFile(t, 20), Options{Frames: 8, Policy: tc.policy, Now: clock.now, OldBlocksTime: 3 * time.Millisecond})
			require.NoError(t, err)
			touchAll(t, p, 17, 18, 19, 20) // cold pages, read once: the pool is full after the hot ones
			touchAll(t, p, 1, 2, 3, 4)
			touchAll(t, p, 1, 2, 3, 4) // 4+ ticks later: past the window, a second uncorrelated reference
			touchAll(t, p, 5, 6, 7, 8, 9, 10, 11, 12)
			for id := uint64(1); id <= 4; id++ {
				require.Equal(t, tc.hotKept, resident(p, id), "hot page %d", id)
			}
		})
	}
}

// References within the window are one: a page read twice in a burst (a scan
// reading its rows) is not made young, nor counted twice by LRU-K.
func TestABurstIsOneReference(t *testing.T) {
	for _, policy := range []Policy{LRUK, Midpoint} {
		t.Run(policy.String(), func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(0, 0)}
			p, err := New(newFile(t, 20), Options{Frames: 8, Policy: policy, Now: clock.now, OldBlocksTime: time.Second})
			require.NoError(t, err)
			touchAll(t, p, 1, 2, 3, 4)
			touchAll(t, p, 1, 2, 3, 4) // within 1 s: correlated
			touchAll(t, p, 10, 11, 12, 13, 14, 15, 16, 17)
			for id := uint64(1); id <= 4; id++ {
				require.False(t, resident(p, id), "page %d was only ever read in one burst", id)
			}
		})
	}
}
