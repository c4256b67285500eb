// Command server is the lab-0 service: a production-shaped Go HTTP service a
// learner can start a real one from. `make serve lab=0` runs it; every
// setting comes from a flag or the environment (see -h).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/config"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lab-0 server:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		return err
	}
	log := telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{Console: cfg.LogFormat == "console"})
	defer func() { _ = log.Sync() }()

	// SIGTERM is how orchestrators ask a process to stop; SIGINT is Ctrl-C.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	tracing, err := telemetry.NewTracing(ctx, telemetry.TracingOptions{Service: "lab-0"})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(sctx)
	}()
	registry := telemetry.NewRegistry()

	if cfg.DebugAddr != "" {
		dbg, err := debugserver.Start(cfg.DebugAddr, registry)
		if err != nil {
			return err
		}
		defer func() { _ = dbg.Shutdown(context.Background()) }()
		log.Info("debug server", zap.String("pprof", dbg.PprofURL()), zap.String("metrics", dbg.MetricsURL()))
	}

	srv, err := server.New(cfg, server.Deps{Log: log, Metrics: registry, Tracer: tracing.Provider})
	if err != nil {
		return err
	}
	log.Info("starting", zap.String("addr", cfg.Addr), zap.String("tracing", tracing.Exporter),
		zap.Any("faults", cfg.Faults))
	if err := srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("stopped")
	return nil
}
