package scenarios

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cache"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
)

// startMini starts an in-process mini Redis on a free port; it stops at env cleanup.
func startMini(env *runner.Env, node string, cfg server.Config) (*server.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("%s: listen: %w", node, err)
	}
	s, err := serveMini(env, node, ln, cfg)
	if err != nil {
		return nil, "", err
	}
	return s, ln.Addr().String(), nil
}

// serveMini serves a mini Redis on ln, a listener the caller already holds: cluster nodes must
// know each other's addresses before any of them serves, and closing a port to rebind it later
// would let another process take it in between. The server stops at env cleanup; ln is closed
// either way.
func serveMini(env *runner.Env, node string, ln net.Listener, cfg server.Config) (*server.Server, error) {
	cfg.Metrics = wrapNode(env, node)
	cfg.Seed = env.Seed
	s, err := server.New(cfg)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(ctx, ln); err != nil {
			env.Log.Error("mini redis: serve", zap.String("node", node), zap.Error(err))
		}
	}()
	env.Cleanup(func() { cancel(); <-done })
	return s, nil
}

func wrapNode(env *runner.Env, node string) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, env.Metrics)
}

// backend is the cache and the store a cache-fault scenario runs against: the mini Redis and
// embedded SQLite by default, a real Redis (REDIS_ADDR) and PostgreSQL (POSTGRES_DSN) when set.
type backend struct {
	rdb    *redis.Client
	store  *cache.Store
	prefix string
}

// preflight says which cache and store the cache-aside scenarios will use,
// and stops the run before any scenario when REDIS_ADDR or POSTGRES_DSN names
// a service that cannot be reached. (hot-key and big-key always run on the
// in-process mini Redis: their culprits are functions of the server.)
func preflight(ctx context.Context) (string, error) {
	cacheDesc := "cache: in-process mini Redis (set REDIS_ADDR for a real Redis)"
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		// A plain dial first: go-redis logs every failed dial attempt to
		// stderr through a process-wide logger, which would bury this line.
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", fmt.Errorf("cache: Redis at %s (REDIS_ADDR) unreachable: %w", addr, err)
		}
		conn.Close()
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		err = rdb.Ping(ctx).Err()
		rdb.Close()
		if err != nil {
			return "", fmt.Errorf("cache: Redis at %s (REDIS_ADDR) unreachable: %w", addr, err)
		}
		cacheDesc = "cache: Redis at " + addr + " (REDIS_ADDR)"
	}
	storeDesc := "store: embedded SQLite (set POSTGRES_DSN for PostgreSQL)"
	if dsn := os.Getenv("POSTGRES_DSN"); dsn != "" {
		st, err := cache.OpenPostgres(ctx, dsn)
		if err != nil {
			return "", fmt.Errorf("store: PostgreSQL (POSTGRES_DSN) unreachable: %w", err)
		}
		st.Close()
		storeDesc = "store: PostgreSQL (POSTGRES_DSN)"
	}
	return cacheDesc + "; " + storeDesc, nil
}

func newBackend(ctx context.Context, env *runner.Env, name string, products, orders int) (*backend, error) {
	b := &backend{prefix: fmt.Sprintf("lab5:%s:%d:", name, time.Now().UnixNano())}
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		_, a, err := startMini(env, name, server.Config{})
		if err != nil {
			return nil, err
		}
		addr = a
		env.Log.Info("cache: in-process mini Redis (set REDIS_ADDR to use a real Redis)", zap.String("addr", addr))
	} else {
		env.Log.Info("cache: real Redis from REDIS_ADDR", zap.String("addr", addr))
	}
	b.rdb = redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		b.rdb.Close()
		return nil, fmt.Errorf("redis at %s unreachable: %w", addr, err)
	}
	env.Cleanup(func() {
		if os.Getenv("REDIS_ADDR") != "" { // leave a shared Redis as we found it
			iter := b.rdb.Scan(context.Background(), 0, b.prefix+"*", 1000).Iterator()
			for iter.Next(context.Background()) {
				b.rdb.Del(context.Background(), iter.Val())
			}
		}
		b.rdb.Close()
	})
	var err error
	if dsn := os.Getenv("POSTGRES_DSN"); dsn != "" {
		b.store, err = cache.OpenPostgres(ctx, dsn)
		env.Log.Info("store: PostgreSQL from POSTGRES_DSN")
	} else {
		b.store, err = cache.OpenSQLite(name + strconv.FormatUint(env.Seed, 10) + strconv.FormatInt(time.Now().UnixNano(), 10))
		env.Log.Info("store: embedded SQLite (set POSTGRES_DSN to use PostgreSQL)")
	}
	if err != nil {
		return nil, err
	}
	env.Cleanup(func() { b.store.Close() })
	if err := b.store.Seed(ctx, products, orders); err != nil {
		return nil, err
	}
	queries := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lab5_cache_store_queries_total", Help: "Queries that reached the backing store.",
		ConstLabels: prometheus.Labels{"scenario": name},
	}, func() float64 { return float64(b.store.Queries()) })
	peak := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lab5_cache_store_inflight_peak", Help: "Most concurrent store queries seen.",
		ConstLabels: prometheus.Labels{"scenario": name},
	}, func() float64 { return float64(b.store.PeakInflight()) })
	if err := telemetry.Register(env.Metrics, queries, peak); err != nil {
		return nil, err
	}
	return b, nil
}

// requestCounter exports the cache reads of a scenario.
func requestCounter(env *runner.Env, name string) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lab5_cache_requests_total", Help: "Reads served through the cache-aside path.",
		ConstLabels: prometheus.Labels{"scenario": name},
	})
	return c, telemetry.Register(env.Metrics, c)
}
