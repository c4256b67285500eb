// Command server runs the user service: the HTTP API on ADDR, pprof and /metrics on DEBUG_ADDR.
//
//	ADDR=127.0.0.1:8300 DEBUG_ADDR=127.0.0.1:8301 go run ./cmd/server
//
// Storage: MYSQL_DSN, else POSTGRES_DSN, else embedded SQLite at SQLITE_PATH. State: REDIS_ADDR, else
// in-process. Auth: AUTH_ADDR (cmd/authd over gRPC), else the in-process module. Keys: JWT_KEYS
// or JWT_KEYS_FILE, else a generated development key. FAULTS=slow-request,db-overload,
// thread-exhaustion turns the lab's defects on for exploration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/app"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
)

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		fmt.Fprintln(os.Stderr, "user-service:", err)
		os.Exit(2)
	}
}

// run serves until ctx ends (SIGINT/SIGTERM in main), then drains in-flight requests for up to
// 10 s and closes the pool. ready, if set, receives the API and debug addresses.
func run(ctx context.Context, args []string, ready chan<- [2]string) error {
	fs := flag.NewFlagSet("user-service", flag.ContinueOnError)
	addr := fs.String("addr", env("ADDR", "127.0.0.1:8300"), "HTTP API address (env ADDR)")
	debugAddr := fs.String("debug-addr", env("DEBUG_ADDR", "127.0.0.1:8301"), "pprof and /metrics address (env DEBUG_ADDR)")
	authAddr := fs.String("auth-addr", env("AUTH_ADDR", ""), "auth service gRPC address; empty: in-process auth module (env AUTH_ADDR)")
	mysqlDSN := fs.String("mysql-dsn", env("MYSQL_DSN", ""), "MariaDB/MySQL DSN (env MYSQL_DSN)")
	pgDSN := fs.String("postgres-dsn", env("POSTGRES_DSN", ""), "PostgreSQL URL (env POSTGRES_DSN)")
	sqlitePath := fs.String("sqlite-path", env("SQLITE_PATH", ""), "embedded SQLite file when no DSN is set (env SQLITE_PATH; default in the temp dir)")
	redisAddr := fs.String("redis-addr", env("REDIS_ADDR", ""), "Redis for revocation and rate-limit state; empty: in-process (env REDIS_ADDR)")
	faults := fs.String("faults", env("FAULTS", ""), "comma-separated faults to turn on: slow-request, db-overload, thread-exhaustion (env FAULTS)")
	fs.StringVar(faults, "fault", *faults, "same as -faults (what `make serve lab=3 fault=NAME` passes)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	log := telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{Console: telemetry.IsTerminal(os.Stderr), Level: zapcore.InfoLevel})
	defer func() { _ = log.Sync() }()
	gin.SetMode(gin.ReleaseMode)

	var f app.Faults
	for _, name := range strings.Split(*faults, ",") {
		switch strings.TrimSpace(name) {
		case "":
		case "slow-request":
			f.SlowRequest = true
		case "db-overload":
			f.DBOverload = true
		case "thread-exhaustion":
			f.ThreadExhaustion = true
		default:
			return fmt.Errorf("unknown fault %q: expected slow-request, db-overload or thread-exhaustion", name)
		}
	}

	reg := telemetry.NewRegistry()
	tracing, err := telemetry.NewTracing(ctx, telemetry.TracingOptions{Service: "lab-3-user-service"})
	if err != nil {
		return err
	}
	defer func() { _ = tracing.Shutdown(context.Background()) }()

	cfg := app.Config{Dialect: sqlstore.SQLite, DSN: *sqlitePath, RedisAddr: *redisAddr, Faults: f, Log: log, Metrics: reg, Tracer: tracing.Provider}
	// MYSQL_DSN wins when both are set (make test-integration sets both for the integration tests).
	switch {
	case *mysqlDSN != "":
		cfg.Dialect, cfg.DSN = sqlstore.MySQL, *mysqlDSN
	case *pgDSN != "":
		cfg.Dialect, cfg.DSN = sqlstore.Postgres, *pgDSN
	}
	if *authAddr != "" {
		c, err := authrpc.Dial(*authAddr, authrpc.DefaultClientConfig())
		if err != nil {
			return err
		}
		defer c.Close()
		cfg.Auth = c
	} else {
		keys, generated, err := token.LoadKeys(os.Getenv("JWT_KEYS"), os.Getenv("JWT_KEYS_FILE"))
		if err != nil {
			return err
		}
		if generated {
			log.Warn("no JWT_KEYS or JWT_KEYS_FILE: generated a development signing key; tokens die with this process")
		}
		cfg.Keys = keys
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}

	dbg, err := debugserver.Start(*debugAddr, reg)
	if err != nil {
		_ = a.Close(context.Background())
		return fmt.Errorf("debug server on %s: %w", *debugAddr, err)
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           a.API.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = a.Close(context.Background())
		_ = dbg.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	if ready != nil {
		ready <- [2]string{lis.Addr().String(), dbg.Addr()}
	}
	storage := string(cfg.Dialect)
	if cfg.Dialect == sqlstore.SQLite {
		storage = "embedded sqlite"
	}
	authMode := "in-process"
	if *authAddr != "" {
		authMode = "grpc " + *authAddr
	}
	state := "in-process"
	if *redisAddr != "" {
		state = "redis " + *redisAddr
	}
	log.Info("user service listening", zap.String("addr", lis.Addr().String()), zap.String("pprof", dbg.PprofURL()), zap.String("metrics", dbg.MetricsURL()),
		zap.String("storage", storage), zap.String("auth", authMode), zap.String("state", state), zap.String("faults", *faults))

	select {
	case err = <-errc:
		err = fmt.Errorf("listen on %s: %w", *addr, err)
	case <-ctx.Done():
		log.Info("shutting down: draining in-flight requests")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, a.Close(cctx), dbg.Shutdown(cctx))
}
