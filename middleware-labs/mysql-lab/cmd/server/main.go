// Command server runs the mini MySQL (what `make serve lab=4` starts): the lab's storage engine,
// SQL executor and MySQL protocol server.
//
//	go run ./cmd/server                            # 127.0.0.1:3307, data in ./mysql-lab-data
//	mariadb -h 127.0.0.1 -P 3307 -u root -e 'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))'
//	go run ./cmd/server -policy lru -frames 64    # a small plain-LRU buffer pool, to watch it thrash
//
// Every flag also reads an environment variable: ADDR, DEBUG_ADDR, DATA_DIR, POOL_FRAMES,
// POOL_POLICY, LONG_QUERY_TIME, SLOW_LOG, MYSQL_PASSWORD.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/executor"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/server"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mini-mysql:", err)
		os.Exit(2)
	}
}

func run() error {
	fs := flag.NewFlagSet("mini-mysql", flag.ContinueOnError)
	addr := fs.String("addr", env("ADDR", "127.0.0.1:3307"), "MySQL protocol listen address (env ADDR)")
	debugAddr := fs.String("debug-addr", env("DEBUG_ADDR", "127.0.0.1:8401"), "pprof and /metrics address, empty to disable (env DEBUG_ADDR)")
	dir := fs.String("data", env("DATA_DIR", "mysql-lab-data"), "data directory: data file, redo log (env DATA_DIR)")
	frames, err := strconv.Atoi(env("POOL_FRAMES", "1024"))
	if err != nil {
		return fmt.Errorf("POOL_FRAMES: expected a number of 16 KiB frames: %w", err)
	}
	fs.IntVar(&frames, "frames", frames, "buffer pool frames of 16 KiB (env POOL_FRAMES)")
	policyName := fs.String("policy", env("POOL_POLICY", "midpoint"), "buffer pool replacement policy: lru, lru-k or midpoint (env POOL_POLICY)")
	lqt, err := time.ParseDuration(env("LONG_QUERY_TIME", "100ms"))
	if err != nil {
		return fmt.Errorf("LONG_QUERY_TIME: expected a duration such as 100ms: %w", err)
	}
	fs.DurationVar(&lqt, "long-query-time", lqt, "statements at least this slow go to the slow log (env LONG_QUERY_TIME)")
	slowPath := fs.String("slow-log", env("SLOW_LOG", "slow.log"), "slow query log file, empty to disable (env SLOW_LOG)")
	password := fs.String("password", env("MYSQL_PASSWORD", ""), "root's password; empty: none (env MYSQL_PASSWORD)")
	faultFlag := fs.String("fault", "", "accepted for `make serve lab=4 fault=...`: the server has no fault switch; run the faults with `make lab-4 fault=NAME`")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *faultFlag != "" && *faultFlag != "off" {
		return fmt.Errorf("the mini MySQL has no fault switch (got -fault=%s): expected off or nothing; the faults run with `make lab-4 fault=NAME`", *faultFlag)
	}
	policy, err := bufpool.ParsePolicy(*policyName)
	if err != nil {
		return err
	}
	log := telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{})
	defer log.Sync() //nolint:errcheck
	reg := telemetry.NewRegistry()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("data directory %s: %w", *dir, err)
	}
	eng, err := storage.Open(ctx, storage.Options{Dir: *dir, PoolFrames: frames, Policy: policy, Registerer: reg})
	if err != nil {
		return fmt.Errorf("open storage in %s: %w", *dir, err)
	}
	defer eng.Close() //nolint:errcheck
	opts := executor.Options{LongQueryTime: lqt, Registerer: reg}
	if *slowPath != "" {
		f, err := os.OpenFile(*slowPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("slow log %s: %w", *slowPath, err)
		}
		defer f.Close() //nolint:errcheck
		opts.SlowLog = f
	}
	ex, err := executor.New(ctx, executor.FromStorage(eng), opts)
	if err != nil {
		return err
	}
	if *debugAddr != "" {
		ds, err := debugserver.Start(*debugAddr, reg)
		if err != nil {
			return fmt.Errorf("debug server on %s: %w", *debugAddr, err)
		}
		defer ds.Shutdown(context.Background()) //nolint:errcheck
		log.Info("debug server", zap.String("pprof", ds.PprofURL()), zap.String("metrics", ds.MetricsURL()))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s (expected a free host:port): %w", *addr, err)
	}
	log.Info("mini-mysql ready for connections", zap.String("addr", ln.Addr().String()), zap.String("data", *dir),
		zap.String("policy", policy.String()), zap.Int("frames", frames), zap.Duration("long_query_time", lqt), zap.String("slow_log", *slowPath))
	err = server.New(ex, server.Config{Password: *password, Log: log}).Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
