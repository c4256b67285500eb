// Command server runs the mini Redis (what `make serve lab=5` starts).
//
//	go run ./cmd/server                                   # 127.0.0.1:6380, debug on 127.0.0.1:8501
//	go run ./cmd/server -appendonly -appendfsync always   # with an AOF (./appendonly.aof)
//	go run ./cmd/server -addr 127.0.0.1:7001 -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
//
// Every flag also reads an environment variable: ADDR, DEBUG_ADDR, APPENDONLY, APPENDFSYNC,
// AOF_PATH, CLUSTER_NODES.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/aof"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mini-redis:", err)
		os.Exit(2)
	}
}

func run() error {
	fs := flag.NewFlagSet("mini-redis", flag.ContinueOnError)
	addr := fs.String("addr", env("ADDR", "127.0.0.1:6380"), "RESP listen address (env ADDR)")
	debugAddr := fs.String("debug-addr", env("DEBUG_ADDR", "127.0.0.1:8501"), "pprof and /metrics address, empty to disable (env DEBUG_ADDR)")
	appendOnly := fs.Bool("appendonly", env("APPENDONLY", "no") == "yes", "enable the append-only file (env APPENDONLY=yes)")
	fsync := fs.String("appendfsync", env("APPENDFSYNC", "everysec"), "AOF fsync policy: always, everysec or no (env APPENDFSYNC)")
	aofPath := fs.String("aof-path", env("AOF_PATH", "appendonly.aof"), "AOF file (env AOF_PATH)")
	clusterNodes := fs.String("cluster", env("CLUSTER_NODES", ""), "comma-separated host:port of every cluster node, this one included; slots are split evenly in order (env CLUSTER_NODES)")
	faultFlag := fs.String("fault", "", "accepted for `make serve lab=5 fault=...`: the server has no fault switch; run the faults with `make lab-5 fault=NAME`")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *faultFlag != "" && *faultFlag != "off" {
		return fmt.Errorf("the mini Redis has no fault switch (got -fault=%s): expected off or nothing; the faults run with `make lab-5 fault=NAME`", *faultFlag)
	}
	policy, err := aof.ParsePolicy(*fsync)
	if err != nil {
		return err
	}
	log, err := zap.NewProduction()
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	reg := telemetry.NewRegistry()
	cfg := server.Config{Metrics: reg, Log: log, AOFPolicy: policy, Seed: uint64(time.Now().UnixNano())}
	if *appendOnly {
		cfg.AOFPath = *aofPath
	}
	if *clusterNodes != "" {
		topo, err := cluster.Even(strings.Split(*clusterNodes, ","), *addr)
		if err != nil {
			return err
		}
		cfg.Cluster = topo
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *debugAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		hs := &http.Server{Addr: *debugAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("debug server", zap.Error(err))
			}
		}()
		defer hs.Close()
		log.Info("debug server", zap.String("pprof", "http://"+*debugAddr+"/debug/pprof/"), zap.String("metrics", "http://"+*debugAddr+"/metrics"))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s (expected a free host:port): %w", *addr, err)
	}
	log.Info("mini-redis ready to accept connections", zap.String("addr", ln.Addr().String()), zap.Bool("appendonly", *appendOnly), zap.Bool("cluster", cfg.Cluster != nil))
	return srv.Serve(ctx, ln)
}
