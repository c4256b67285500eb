// Command server runs lab 7's KV as a 3-node cluster on loopback for
// exploring with curl (what `make serve lab=7` starts):
//
//	go run ./cmd/server                       # 127.0.0.1:7101, :7102, :7103 on hashicorp/raft
//	go run ./cmd/server -backend=own          # the same on the lab's own Raft
//	go run ./cmd/server -reads=local          # the network-partition fault's read path
//	curl -X PUT 127.0.0.1:7101/kv/greeting -d hello
//	curl 127.0.0.1:7101/kv/greeting
//
// The three nodes run in this one process, each with its own listener,
// data directory (under -data, kept across runs) and debug server; the
// scenarios (make lab-7) run them as separate processes instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvnode"
	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "raft-lab server:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "interface to listen on (0.0.0.0 in a container)")
	base := fs.Int("port", 7101, "the first node's port; the others follow it")
	debugBase := fs.Int("debug-port", 0, "the first node's debug (pprof, /metrics) port; 0 picks free ones")
	n := fs.Int("nodes", 3, "cluster size (3 or 5)")
	data := fs.String("data", filepath.Join(os.TempDir(), "raft-lab-serve"), "data directory, one folder per node")
	backend := fs.String("backend", kvnode.BackendHashicorp, "hashicorp | own")
	reads := fs.String("reads", "linearizable", "linearizable | local")
	ack := fs.String("ack", "commit", "commit | early")
	faultFlag := fs.String("fault", "", "accepted for `make serve lab=7 fault=...`: on serves local reads and early acks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *faultFlag {
	case "", "off":
	case "on":
		*reads, *ack = "local", "early"
	default:
		return fmt.Errorf("-fault=%q: expected on or off (the scenarios take fault names: make lab-7 fault=NAME)", *faultFlag)
	}
	if *n != 3 && *n != 5 {
		return fmt.Errorf("-nodes=%d: expected 3 or 5", *n)
	}
	opts, err := kvnode.ParseFlags([]string{"-backend=" + *backend, "-reads=" + *reads, "-ack=" + *ack})
	if err != nil {
		return err
	}
	log := telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{Console: telemetry.IsTerminal(os.Stderr)})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	// The nodes share this process: peers always dial loopback.
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(*base+i-1) }
	listen := func(i int) string { return net.JoinHostPort(*host, strconv.Itoa(*base+i-1)) }
	debugAddr := func(i int) string {
		if *debugBase == 0 {
			return net.JoinHostPort(*host, "0")
		}
		return net.JoinHostPort(*host, strconv.Itoa(*debugBase+i-1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, *n)
	for i := 1; i <= *n; i++ {
		ln, err := net.Listen("tcp", listen(i))
		if err != nil {
			stop()
			wg.Wait()
			return fmt.Errorf("listen on %s: %w (is another server running?)", listen(i), err)
		}
		name := "node" + strconv.Itoa(i)
		var peers []string
		for j := 1; j <= *n; j++ {
			if j != i {
				peers = append(peers, "node"+strconv.Itoa(j)+"="+addr(j))
			}
		}
		reg := telemetry.NewRegistry()
		dbg, err := debugserver.Start(debugAddr(i), reg)
		if err != nil {
			_ = ln.Close()
			stop()
			wg.Wait()
			return err
		}
		self := &node.Self{ID: i, Name: name, DataDir: filepath.Join(*data, name), Peers: peers, Listener: ln,
			Metrics: reg, Log: log.With(zap.String("node", name))}
		fmt.Printf("%s: http://%s   pprof %s   metrics %s\n", name, addr(i), dbg.PprofURL(), dbg.MetricsURL())
		wg.Go(func() {
			defer func() { _ = dbg.Shutdown(context.WithoutCancel(ctx)) }()
			if err := kvnode.Serve(ctx, self, opts); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", name, err)
				stop()
			}
		})
	}
	fmt.Printf("backend %s, reads %s, ack %s, data in %s; try: curl -X PUT %s/kv/a -d 1; curl %s/status\n",
		opts.Backend, opts.Reads, opts.Ack, *data, "127.0.0.1:"+strconv.Itoa(*base), "127.0.0.1:"+strconv.Itoa(*base))
	wg.Wait()
	close(errs)
	return <-errs
}
