// Command authd runs the auth module as its own process, over gRPC: the last step of the
// monolith -> modular monolith -> split story. The user service reaches it with AUTH_ADDR.
//
//	ADDR=127.0.0.1:8310 DEBUG_ADDR=127.0.0.1:8311 go run ./cmd/authd
//
// Keys: JWT_KEYS ("kid:base64-seed,..."; the first signs) or JWT_KEYS_FILE; without either a
// development key is generated. `authd -genkey KID` prints a fresh JWT_KEYS entry.
// State: REDIS_ADDR for revocation (shared by replicas), else an embedded SQLite file at
// REVOCATION_DB (default in the temp dir), so revocations survive a restart.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
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
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "authd:", err)
		os.Exit(2)
	}
}

func run() error {
	addr := flag.String("addr", env("ADDR", "127.0.0.1:8310"), "gRPC address (env ADDR)")
	debugAddr := flag.String("debug-addr", env("DEBUG_ADDR", "127.0.0.1:8311"), "pprof and /metrics address (env DEBUG_ADDR)")
	redisAddr := flag.String("redis-addr", env("REDIS_ADDR", ""), "Redis for revocation state; empty: the SQLite file -revocation-db (env REDIS_ADDR)")
	revDB := flag.String("revocation-db", env("REVOCATION_DB", filepath.Join(os.TempDir(), "lab-3-authd-revocations.db")), "SQLite file for revocation state without Redis (env REVOCATION_DB)")
	genkey := flag.String("genkey", "", "print a new JWT_KEYS entry with this kid and exit")
	flag.Parse()
	if *genkey != "" {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		fmt.Println(token.EncodeSeed(*genkey, k))
		return nil
	}

	log := telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{Console: telemetry.IsTerminal(os.Stderr), Level: zapcore.InfoLevel})
	defer func() { _ = log.Sync() }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	keys, generated, err := token.LoadKeys(os.Getenv("JWT_KEYS"), os.Getenv("JWT_KEYS_FILE"))
	if err != nil {
		return err
	}
	if generated {
		log.Warn("no JWT_KEYS or JWT_KEYS_FILE: generated a development signing key; tokens die with this process")
	}
	var store revocation.Store
	if *redisAddr == "" {
		st, err := sqlstore.Open(ctx, sqlstore.Config{Dialect: sqlstore.SQLite, DSN: *revDB, Pool: sqlstore.DefaultPool()})
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		store = st
		log.Info("revocations in SQLite (set REDIS_ADDR to share them between replicas)", zap.String("path", *revDB))
	} else {
		rc := redis.NewClient(&redis.Options{Addr: *redisAddr, DialTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
		defer rc.Close()
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := rc.Ping(pctx).Err()
		cancel()
		if err != nil {
			return fmt.Errorf("redis at %s: %w", *redisAddr, err)
		}
		store = revocation.NewRedis(rc, "lab3:rev:")
	}
	m := auth.New(password.New(password.DefaultParams()), token.NewIssuer(keys, token.DefaultConfig()), store)

	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(64<<10),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 5 * time.Minute}),
	)
	authrpc.Register(srv, m)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	reg := telemetry.NewRegistry()
	dbg, err := debugserver.Start(*debugAddr, reg)
	if err != nil {
		_ = lis.Close()
		return fmt.Errorf("debug server on %s: %w", *debugAddr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	log.Info("auth service listening", zap.String("addr", lis.Addr().String()), zap.String("pprof", dbg.PprofURL()), zap.String("metrics", dbg.MetricsURL()))

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down: draining in-flight calls")
		hs.Shutdown()
		done := make(chan struct{})
		go func() { srv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Stop()
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, dbg.Shutdown(sctx))
}
