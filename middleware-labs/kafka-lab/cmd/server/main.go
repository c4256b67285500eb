// Command server runs the mini Kafka broker (what `make serve lab=6` starts).
//
//	go run ./cmd/server                              # 127.0.0.1:9192, debug on 127.0.0.1:8601, data in ./out/kafka-data
//	go run ./cmd/server -data /tmp/k -partitions 3   # auto-created topics get 3 partitions
//	kcat -b 127.0.0.1:9192 -L                        # what kcat sees
//
// Every flag also reads an environment variable: ADDR, DEBUG_ADDR, DATA_DIR,
// PARTITIONS, FSYNC.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/broker"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mini-kafka:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := newFlags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fs.fault != "" && *fs.fault != "off" {
		return fmt.Errorf("the mini Kafka broker has no fault switch (got -fault=%s): expected off or nothing; the faults run with `make lab-6 fault=NAME`", *fs.fault)
	}
	parts, err := strconv.Atoi(*fs.partitions)
	if err != nil || parts < 1 || parts > 1024 {
		return fmt.Errorf("-partitions %q: expected a whole number 1..1024", *fs.partitions)
	}
	opts := commitlog.Options{}
	switch *fs.fsync {
	case "batch":
		opts.Fsync = commitlog.FsyncEveryBatch
	case "interval":
		opts.Fsync = commitlog.FsyncInterval
	default:
		return fmt.Errorf("-fsync %q: expected batch or interval", *fs.fsync)
	}
	log, err := zap.NewProduction()
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck

	offsets, err := broker.OpenOffsetLog(filepath.Join(*fs.data, "__consumer_offsets"))
	if err != nil {
		return err
	}
	defer offsets.Close() //nolint:errcheck
	b, err := broker.New(broker.Config{NodeID: 1, DefaultPartitions: int32(parts), Log: log,
		Open:  broker.DiskLogs(*fs.data, 1, opts),
		Group: group.Config{InitialRebalanceDelay: 300 * time.Millisecond, Offsets: offsets}})
	if err != nil {
		return err
	}
	existing, err := broker.DiskTopics(*fs.data)
	if err != nil {
		return err
	}
	for name, n := range existing {
		if err := b.CreateTopic(name, n); err != nil {
			return err
		}
	}
	reg := telemetry.NewRegistry()
	if err := telemetry.Register(reg, b.Collectors()...); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *fs.debugAddr != "" {
		dbg, err := debugserver.Start(*fs.debugAddr, reg)
		if err != nil {
			return fmt.Errorf("debug server on %s (expected a free host:port): %w", *fs.debugAddr, err)
		}
		defer dbg.Shutdown(context.Background()) //nolint:errcheck
		log.Info("debug server", zap.String("pprof", dbg.PprofURL()), zap.String("metrics", dbg.MetricsURL()))
	}
	ln, err := net.Listen("tcp", *fs.addr)
	if err != nil {
		return fmt.Errorf("listen on %s (expected a free host:port): %w", *fs.addr, err)
	}
	log.Info("mini-kafka ready", zap.String("addr", ln.Addr().String()), zap.String("data", *fs.data), zap.Int("default_partitions", parts))
	return b.Serve(ctx, ln)
}
