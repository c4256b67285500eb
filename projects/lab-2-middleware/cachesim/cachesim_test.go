package cachesim

import (
	"encoding/xml"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTraceValidation(t *testing.T) {
	for name, err := range map[string]error{
		"s not above 1": func() error { _, err := Zipf(1, 10, 10, 1); return err }(),
		"one key":       func() error { _, err := Zipf(1, 10, 1, 1.1); return err }(),
		"zero scan":     func() error { _, err := ScanHeavy(1, 10, 10, 1.1, 5, 0); return err }(),
	} {
		assert.Error(t, err, name)
	}
	tr, err := ScanHeavy(1, 100, 50, 1.1, 10, 5)
	require.NoError(t, err)
	assert.Len(t, tr.Keys, 100+9*5)
}

// TestHitRatios is the experiment in miniature, asserting what the lesson claims: on Zipf the LFU
// beats the LRU and ours matches golang-lru exactly (same policy); a scan flushes an LRU but barely
// dents the LFU.
func TestHitRatios(t *testing.T) {
	zipf, err := Zipf(7, 100_000, 20_000, 1.1)
	require.NoError(t, err)
	scan, err := ScanHeavy(7, 100_000, 20_000, 1.1, 5_000, 2_000)
	require.NoError(t, err)
	res, err := Experiment([]Trace{zipf, scan}, Policies(), []int{1000})
	require.NoError(t, err)
	ratio := map[string]float64{}
	for _, r := range res {
		ratio[r.Trace[:4]+"/"+r.Policy] = r.HitRatio
		t.Logf("%-60s %-14s %.3f", r.Trace, r.Policy, r.HitRatio)
	}
	assert.Equal(t, ratio["zipf/golang-lru"], ratio["zipf/ours-lru"], "same policy, same trace, same hits")
	assert.Greater(t, ratio["zipf/ours-lfu"], ratio["zipf/ours-lru"])
	lruLoss := ratio["zipf/ours-lru"] - scanRatioOnZipf(t, scan, "ours-lru")
	lfuLoss := ratio["zipf/ours-lfu"] - scanRatioOnZipf(t, scan, "ours-lfu")
	assert.Greater(t, lruLoss, 2*lfuLoss, "the scan hurts the LRU more than the LFU")

	svg := Chart(res)
	var doc struct{ XMLName xml.Name }
	require.NoError(t, xml.Unmarshal(svg, &doc), "chart is well-formed XML")
	assert.Equal(t, "svg", doc.XMLName.Local)
}

// scanRatioOnZipf is the policy's hit ratio on the Zipf accesses of a scan-heavy trace only (the
// scan keys can never hit), so it compares with the pure Zipf figure.
func scanRatioOnZipf(t *testing.T, tr Trace, policy string) float64 {
	t.Helper()
	for _, p := range Policies() {
		if p.Name != policy {
			continue
		}
		c, err := p.New(1000)
		require.NoError(t, err)
		defer c.Close()
		hits, n := 0, 0
		for _, k := range tr.Keys {
			hit := c.Get(k)
			if !hit {
				c.Put(k)
			}
			if k < 1<<40 {
				n++
				if hit {
					hits++
				}
			}
		}
		return float64(hits) / float64(n)
	}
	t.Fatalf("no policy %q", policy)
	return 0
}

// BenchmarkCache runs our LRU and LFU beside golang-lru and ristretto on the same Zipf trace
// (100k keys, s=1.1, capacity 10k), read-through (Get, Put on a miss), at 1 and 2 goroutines.
// Besides ns/op and allocs it reports each cache's hit ratio on that trace.
func BenchmarkCache(b *testing.B) {
	tr, err := Zipf(42, 1<<20, 100_000, 1.1)
	if err != nil {
		b.Fatal(err)
	}
	const capacity = 10_000
	impls := append(Policies()[:4:4], Policy{"ristretto", func(c int) (Cache, error) {
		r, err := ristretto.NewCache(&ristretto.Config[uint64, struct{}]{NumCounters: int64(10 * c), MaxCost: int64(c), BufferItems: 64, IgnoreInternalCost: true})
		return ristr{r, false}, err
	}})
	mask := len(tr.Keys) - 1
	for _, impl := range impls {
		for _, g := range []int{1, 2} {
			b.Run(fmt.Sprintf("impl=%s/goroutines=%d", impl.Name, g), func(b *testing.B) {
				c, err := impl.New(capacity)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				for _, k := range tr.Keys[:200_000] { // warm
					if !c.Get(k) {
						c.Put(k)
					}
				}
				var hits atomic.Int64
				var wg sync.WaitGroup
				b.ReportAllocs()
				b.ResetTimer()
				// b.N operations in total, split over g goroutines: ns/op is wall time per operation.
				for w := range g {
					wg.Add(1)
					go func() {
						defer wg.Done()
						h := int64(0)
						for i := w; i < b.N; i += g {
							k := tr.Keys[i&mask]
							if c.Get(k) {
								h++
							} else {
								c.Put(k)
							}
						}
						hits.Add(h)
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(100*float64(hits.Load())/float64(b.N), "hit%")
			})
		}
	}
}
