package scenarios

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// bigKeyFields is the size of each big hash: a million fields, as in the issue.
const bigKeyFields = 1_000_000

var bigKeys = []string{"big:hash:a", "big:hash:b"}

// runBigKey builds two hashes of a million fields each in an in-process mini Redis (always the mini one:
// the culprit is a function of its executor, which a real Redis's profile would not show),
// drives other clients at a steady rate, and deletes the big key in the middle of the window:
// with DEL (fault) the executor frees it field by field while every other client waits; with
// UNLINK (fix) the key is detached in O(1) and freed by the lazy-free goroutine.
func runBigKey(ctx context.Context, env *runner.Env) error {
	srv, addr, err := startMini(env, "big-key", server.Config{})
	if err != nil {
		return err
	}
	// Two big hashes (a per-tenant index and its previous version, say), built straight into the
	// keyspace: loading them over the wire would only add minutes of setup.
	srv.Lock()
	for _, key := range bigKeys {
		h := make(map[string][]byte, bigKeyFields)
		for i := 0; i < bigKeyFields; i++ {
			h["field:"+strconv.Itoa(i)] = []byte("v")
		}
		srv.DB().Set(key, &store.Value{Kind: store.KindHash, Hash: h}, false)
	}
	srv.Unlock()
	// Settle the heap now: a collection of the fresh 200 MB would otherwise land inside the window
	// and its mark assists would blur the other clients' latency in both modes.
	runtime.GC()
	env.Log.Info("big-key: built hashes", zap.Strings("keys", bigKeys), zap.Int("fields_each", bigKeyFields), zap.String("addr", addr))

	others := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 32})
	admin := redis.NewClient(&redis.Options{Addr: addr})
	env.Cleanup(func() { others.Close(); admin.Close() })
	if err := others.Set(ctx, "small", "v", 0).Err(); err != nil {
		return err
	}
	// Each other client's request is timed; the symptom is the worst latency among the requests
	// that overlapped the delete call, which isolates the stall from the machine's background noise.
	type span struct{ start, end time.Time }
	var mu sync.Mutex
	spans := make([]span, 0, 8192)
	var delStart, delEnd time.Time
	deleted := make(chan time.Duration, 1)
	go func() {
		select {
		case <-ctx.Done():
			deleted <- 0
			return
		case <-time.After(env.Duration / 3):
		}
		start := time.Now()
		var err error
		if env.FaultOn {
			err = admin.Del(ctx, bigKeys...).Err()
		} else {
			err = admin.Unlink(ctx, bigKeys...).Err()
		}
		end := time.Now()
		if err != nil {
			env.Log.Error("big-key: delete", zap.Error(err))
		}
		mu.Lock()
		delStart, delEnd = start, end
		mu.Unlock()
		deleted <- end.Sub(start)
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
	d := <-deleted
	mu.Lock()
	var during time.Duration
	overlapping := 0
	for _, sp := range spans {
		if sp.start.Before(delEnd) && sp.end.After(delStart) {
			overlapping++
			during = max(during, sp.end.Sub(sp.start))
		}
	}
	mu.Unlock()
	env.Record("others_max_latency_during_delete_ms", float64(during)/1e6)
	env.Record("others_overlapping_requests", float64(overlapping))
	env.Record("others_max_latency_ms", float64(res.Latency.Max)/1e6)
	env.Record("others_p99_ms", float64(res.Latency.P99)/1e6)
	env.Record("delete_ms", float64(d)/1e6)
	if slow, err := admin.SlowLogGet(ctx, 5).Result(); err == nil {
		env.WriteFile("slowlog.txt", []byte(fmt.Sprintf("%+v\n", slow)))
	}
	return nil
}
