package scenarios

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/msgcache"
)

// runMemoryBloat feeds 1000 frames/s, each with a new id, into the subject cache.
func runMemoryBloat(ctx context.Context, env *runner.Env) error {
	c, err := msgcache.New(1000, env.FaultOn)
	if err != nil {
		return err
	}
	// The cache must still be reachable when the heap profile is taken after the window.
	env.Cleanup(func() { runtime.KeepAlive(c) })
	stat := func(f func(msgcache.Stats) float64) func() float64 { return func() float64 { return f(c.Stats()) } }
	if err := telemetry.Register(env.Metrics,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab1_msgcache_entries", Help: "Subjects cached."},
			stat(func(s msgcache.Stats) float64 { return float64(s.Entries) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab1_msgcache_live_bytes",
			Help: "Bytes of subject the cache holds (sum of len)."},
			stat(func(s msgcache.Stats) float64 { return float64(s.LiveBytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab1_msgcache_pinned_bytes",
			Help: "Bytes the cached subjects keep reachable (sum of cap)."},
			stat(func(s msgcache.Stats) float64 { return float64(s.PinnedBytes) }))); err != nil {
		return err
	}
	env.Series("msgcache_pinned_bytes", stat(func(s msgcache.Stats) float64 { return float64(s.PinnedBytes) }))

	heapInuse := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heapInuse()
	var n atomic.Uint64
	res, err := loadgen.Run(ctx, loadgen.Config{Rate: 1000, Workers: 16, Duration: env.Duration},
		func(context.Context) error {
			i := n.Add(1)
			var frame bytes.Buffer
			subject := "orders.eu-west." + strconv.FormatUint(mix(env.Seed, i)%10_000, 10)
			if err := msgcache.WriteFrame(&frame, strconv.FormatUint(i, 10), subject, 'x'); err != nil {
				return err
			}
			_, err := c.Receive(&frame)
			return err
		})
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	growth := (float64(heapInuse()) - float64(before)) / (1 << 20)
	st := c.Stats()
	env.Record("heap_inuse_growth_mb", growth)
	env.Record("cache_live_kb", float64(st.LiveBytes)/1024)
	env.Record("cache_pinned_mb", float64(st.PinnedBytes)/(1<<20))
	env.Record("frames", float64(res.Requests))
	// Neutral on purpose: a mystery run shows lab.log, and a message or
	// field named after the fault or its symptom would give the answer away.
	env.Log.Info("load window done", zap.Int64("requests", res.Requests))
	return nil
}
