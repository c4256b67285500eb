package scenarios

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

const (
	// bigKeyFields is the size of the price index: a million fields, as in the issue.
	bigKeyFields = 1_000_000
	// bigKeyBuckets is how many hashes the fixed layout splits it into (about 1000 fields each,
	// so one bucket's HGETALL holds the executor for a fraction of a millisecond).
	bigKeyBuckets = 1024
	bigKeyName    = "price-index"
)

// runBigKey reads a million-field hash while other clients keep sending small GETs.
//
// Fault: the index is one hash and the nightly export reads it with one HGETALL. The server
// walks all million fields and encodes the whole ~30 MB reply into that client's output buffer
// while it holds the executor lock (server/doc.go), so every other client waits for the whole
// walk, and the reply sits in server memory in one piece until the socket has taken it. This is
// a cost Go pays like Redis does: map iteration and encoding, not freeing (Go frees by GC).
//
// Fix: the same data split into 1024 hashes by a hash of the field; the export reads them one
// HGETALL at a time and processes each before the next. Other clients get the executor between
// buckets, and no reply is larger than one bucket. (On Redis, HSCAN over the single key would bound
// each call too; this server's HSCAN bounds the reply but walks the whole key on every call. Splitting
// the key also keeps each hash small for HDEL, DEL and replication.)
func runBigKey(ctx context.Context, env *runner.Env) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("big-key: listen: %w", err)
	}
	// The largest single socket write of a connection is that connection's whole output buffer:
	// the server encodes a pipeline's replies into memory and writes them with one Write.
	wl := &writeSizeListener{Listener: ln}
	srv, err := serveMini(env, "big-key", wl, server.Config{})
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	keys := buildPriceIndex(srv, env.FaultOn)
	// Settle the heap now: a collection of the fresh keyspace would otherwise land inside the
	// window and its mark assists would blur the other clients' latency in both modes.
	runtime.GC()
	env.Log.Info("built the price index", zap.Int("fields", bigKeyFields), zap.Int("keys", len(keys)), zap.String("addr", addr))

	others := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 32})
	export := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
	env.Cleanup(func() { others.Close(); export.Close() })
	if err := others.Set(ctx, "small", "v", 0).Err(); err != nil {
		return err
	}
	if err := export.Ping(ctx).Err(); err != nil {
		return err
	}
	// Only the read's own replies should count toward the peak, not the setup's.
	wl.reset()

	// Each other client's request is timed; the symptom is the worst latency among the requests
	// that overlapped the export, which isolates its stall from the machine's background noise.
	type span struct{ start, end time.Time }
	var mu sync.Mutex
	spans := make([]span, 0, 8192)
	type exported struct {
		start, end time.Time
		fields     int
		err        error
	}
	done := make(chan exported, 1)
	go func() {
		select {
		case <-ctx.Done():
			done <- exported{err: ctx.Err()}
			return
		case <-time.After(env.Duration / 3):
		}
		// A goroutine dump 40 ms into the export shows who is waiting on whom; the whole-key
		// HGETALL holds the executor for well over that (slowlog.txt has its duration).
		snap := time.AfterFunc(40*time.Millisecond, func() {
			if err := env.Snapshot(evidence.Goroutine); err != nil {
				env.Log.Error("big-key: goroutine snapshot", zap.Error(err))
			}
		})
		start := time.Now()
		n, err := exportIndex(ctx, export, keys)
		end := time.Now()
		snap.Stop()
		done <- exported{start, end, n, err}
	}()
	res, err := loadgen.Run(ctx, loadgen.Config{Rate: 2000, Workers: 64, Duration: env.Duration}, func(ctx context.Context) error {
		start := time.Now()
		err := others.Get(ctx, "small").Err()
		end := time.Now()
		mu.Lock()
		if len(spans) < cap(spans) {
			spans = append(spans, span{start, end})
		}
		mu.Unlock()
		return err
	})
	if err != nil {
		return fmt.Errorf("big-key: load: %w", err)
	}
	env.Traffic().Add(res)
	ex := <-done
	if ex.err != nil {
		return fmt.Errorf("big-key: export: %w", ex.err)
	}
	if ex.fields != bigKeyFields {
		return fmt.Errorf("big-key: export read %d fields, expected %d", ex.fields, bigKeyFields)
	}
	mu.Lock()
	var during []time.Duration
	for _, sp := range spans {
		if sp.start.Before(ex.end) && sp.end.After(ex.start) {
			during = append(during, sp.end.Sub(sp.start))
		}
	}
	mu.Unlock()
	// The p99 of the overlapping requests is the check: the worst single one also moves with
	// whatever else the machine runs (it is recorded beside it).
	slices.Sort(during)
	ms := func(q float64) float64 {
		if len(during) == 0 {
			return 0
		}
		return float64(during[min(len(during)-1, int(q*float64(len(during))))]) / 1e6
	}
	env.Record("others_p99_during_export_ms", ms(0.99))
	env.Record("others_max_latency_during_export_ms", ms(1))
	env.Record("others_overlapping_requests", float64(len(during)))
	env.Record("others_max_latency_ms", float64(res.Latency.Max)/1e6)
	env.Record("others_p99_ms", float64(res.Latency.P99)/1e6)
	env.Record("reply_buffer_peak_bytes", float64(wl.peak.Load()))
	env.Record("export_ms", float64(ex.end.Sub(ex.start))/1e6)
	if slow, err := export.SlowLogGet(ctx, 10).Result(); err == nil {
		var longest time.Duration
		for _, e := range slow {
			longest = max(longest, e.Duration)
		}
		env.Record("slowlog_longest_command_ms", float64(longest)/1e6)
		if err := env.WriteFile("slowlog.txt", []byte(fmt.Sprintf("%+v\n", slow))); err != nil {
			return fmt.Errorf("bigkey: write slowlog evidence: %w", err)
		}
	}
	return nil
}

// buildPriceIndex writes the million-field index straight into the keyspace (loading it over the
// wire would only add setup time): one hash with the fault, bigKeyBuckets hashes without. The
// fields and values are the same either way. It returns the keys the export must read.
func buildPriceIndex(srv *server.Server, whole bool) []string {
	hashes := map[string]map[string][]byte{}
	for i := 0; i < bigKeyFields; i++ {
		f := "sku:" + strconv.Itoa(i)
		k := bigKeyName
		if !whole {
			k = priceIndexKey(f)
		}
		h, ok := hashes[k]
		if !ok {
			size := 2 * bigKeyFields / bigKeyBuckets
			if whole {
				size = bigKeyFields
			}
			h = make(map[string][]byte, size)
			hashes[k] = h
		}
		h[f] = []byte(strconv.Itoa(100 + i%9000))
	}
	keys := slices.Sorted(maps.Keys(hashes))
	srv.Lock()
	defer srv.Unlock()
	for k, h := range hashes {
		srv.DB().Set(k, &store.Value{Kind: store.KindHash, Hash: h}, false)
	}
	return keys
}

// priceIndexKey is the key of the hash that holds field f in the fixed layout: one of
// bigKeyBuckets hashes, so that no single read walks the whole index.
func priceIndexKey(f string) string {
	// exercise:begin big-key
	return bucketKey(bucketOf(f))
	// exercise:stub
	// return bigKeyName
	// exercise:end
}

// bucketOf places a field in one of the split hashes; writers and point readers (HGET) compute
// the same bucket, so the split is invisible to them but the key name.
func bucketOf(field string) int {
	h := fnv.New32a()
	h.Write([]byte(field))
	return int(h.Sum32() % bigKeyBuckets)
}

func bucketKey(b int) string { return bigKeyName + ":" + strconv.Itoa(b) }

// exportIndex reads every field of keys, one HGETALL per key, and processes each reply before
// asking for the next (here it only counts the fields), so at most one key's reply is in memory.
func exportIndex(ctx context.Context, rdb *redis.Client, keys []string) (int, error) {
	n := 0
	for _, k := range keys {
		h, err := rdb.HGetAll(ctx, k).Result()
		if err != nil {
			return n, fmt.Errorf("hgetall %s: %w", k, err)
		}
		n += len(h)
	}
	return n, nil
}

// writeSizeListener records the largest single Write on any accepted connection.
type writeSizeListener struct {
	net.Listener
	peak atomic.Int64
}

func (l *writeSizeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &writeSizeConn{Conn: c, peak: &l.peak}, nil
}

func (l *writeSizeListener) reset() { l.peak.Store(0) }

type writeSizeConn struct {
	net.Conn
	peak *atomic.Int64
}

func (c *writeSizeConn) Write(p []byte) (int, error) {
	for n := int64(len(p)); ; {
		cur := c.peak.Load()
		if n <= cur || c.peak.CompareAndSwap(cur, n) {
			break
		}
	}
	return c.Conn.Write(p)
}
