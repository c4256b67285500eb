package main

import "flag"

type flags struct {
	*flag.FlagSet
	addr, debugAddr, data, partitions, fsync, fault *string
}

func newFlags() *flags {
	fs := flag.NewFlagSet("mini-kafka", flag.ContinueOnError)
	return &flags{
		FlagSet:    fs,
		addr:       fs.String("addr", env("ADDR", "127.0.0.1:9192"), "Kafka listen address (env ADDR)"),
		debugAddr:  fs.String("debug-addr", env("DEBUG_ADDR", "127.0.0.1:8601"), "pprof and /metrics address, empty to disable (env DEBUG_ADDR)"),
		data:       fs.String("data", env("DATA_DIR", "out/kafka-data"), "directory of the partition logs (env DATA_DIR)"),
		partitions: fs.String("partitions", env("PARTITIONS", "3"), "partitions of auto-created topics (env PARTITIONS)"),
		fsync:      fs.String("fsync", env("FSYNC", "interval"), "log fsync policy: batch or interval (env FSYNC)"),
		fault:      fs.String("fault", "", "accepted for `make serve lab=6 fault=...`: the broker has no fault switch"),
	}
}
