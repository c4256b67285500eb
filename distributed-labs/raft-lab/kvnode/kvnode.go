// Package kvnode is one KV node process: flags, the replicated log (either
// backend), the state machine and the HTTP API, on the one listener
// labkit/node hands the process. cmd/node is its main; the scenarios' test
// binary becomes one too.
package kvnode

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/connsplit"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus/hashiraft"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus/ownraft"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raftnet"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

// Backends.
const (
	BackendHashicorp = "hashicorp"
	BackendOwn       = "own"
)

// Options are a node's flags.
type Options struct {
	Backend string        // BackendHashicorp or BackendOwn
	Reads   string        // kvhttp.ReadLinearizable or kvhttp.ReadLocal
	Ack     string        // kvhttp.AckCommit or kvhttp.AckEarly
	Tick    time.Duration // Raft's heartbeat and election timeout
	// LockStorage, when set, runs a lock worker against the protected
	// storage at this host:port (the split-brain scenario).
	LockStorage string
	LockTTL     time.Duration
	// Register, when set, registers this node as an instance of that
	// service (serving GET /echo) with a lease of RegisterTTL; 0 registers
	// it without a lease (the zombie-instances fault).
	Register    string
	RegisterTTL time.Duration
}

const usage = "expected -backend=hashicorp|own -reads=linearizable|local -ack=commit|early -tick=DURATION -lock-storage=HOST:PORT -lock-ttl=DURATION -register=SERVICE -register-ttl=DURATION"

// ParseFlags reads a node's command line.
func ParseFlags(args []string) (Options, error) {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := Options{}
	fs.StringVar(&o.Backend, "backend", BackendHashicorp, "replicated log: hashicorp | own")
	fs.StringVar(&o.Reads, "reads", kvhttp.ReadLinearizable, "read path: linearizable | local")
	fs.StringVar(&o.Ack, "ack", kvhttp.AckCommit, "write acknowledgement: commit | early")
	fs.DurationVar(&o.Tick, "tick", 300*time.Millisecond, "Raft heartbeat and election timeout")
	fs.StringVar(&o.LockStorage, "lock-storage", "", "host:port of a protected storage: run a lock worker against it")
	fs.DurationVar(&o.LockTTL, "lock-ttl", 500*time.Millisecond, "the lock worker's lease TTL")
	fs.StringVar(&o.Register, "register", "", "register this node as an instance of this service")
	fs.DurationVar(&o.RegisterTTL, "register-ttl", 600*time.Millisecond, "the registration's lease (0: none)")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("node: %w (%s)", err, usage)
	}
	switch {
	case o.Backend != BackendHashicorp && o.Backend != BackendOwn:
		return o, fmt.Errorf("node: -backend=%q: expected hashicorp or own", o.Backend)
	case o.Reads != kvhttp.ReadLinearizable && o.Reads != kvhttp.ReadLocal:
		return o, fmt.Errorf("node: -reads=%q: expected linearizable or local", o.Reads)
	case o.Ack != kvhttp.AckCommit && o.Ack != kvhttp.AckEarly:
		return o, fmt.Errorf("node: -ack=%q: expected commit or early", o.Ack)
	case o.Tick < 10*time.Millisecond:
		return o, fmt.Errorf("node: -tick=%s: expected at least 10ms", o.Tick)
	case o.RegisterTTL != 0 && o.RegisterTTL < 30*time.Millisecond:
		return o, fmt.Errorf("node: -register-ttl=%s: expected 0 (no lease) or at least 30ms", o.RegisterTTL)
	case o.LockTTL < 30*time.Millisecond:
		return o, fmt.Errorf("node: -lock-ttl=%s: expected at least 30ms", o.LockTTL)
	}
	return o, nil
}

// Main is a node program's whole main. Bad flags exit 2.
func Main(args []string) {
	o, err := ParseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	node.Main(func(ctx context.Context, self *node.Self) error { return Serve(ctx, self, o) })
}

// Peers maps the other nodes' names to the addresses to dial. A peer is
// given as "name=addr" (the scenarios, whose addresses are proxies) or as
// a bare address, in which case the peers are the other nodes in order of
// their IDs (labkit/node's default).
func Peers(self *node.Self) (map[string]string, error) {
	out := map[string]string{}
	id := 0
	for _, p := range self.Peers {
		if name, addr, ok := strings.Cut(p, "="); ok {
			out[name] = addr
			continue
		}
		id++
		if id == self.ID {
			id++
		}
		out["node"+strconv.Itoa(id)] = p
	}
	if len(out) != len(self.Peers) {
		return nil, fmt.Errorf("node: peers %q: expected distinct name=addr pairs", self.Peers)
	}
	return out, nil
}

// Serve runs a node until ctx ends.
func Serve(ctx context.Context, self *node.Self, o Options) error {
	peers, err := Peers(self)
	if err != nil {
		return err
	}
	split := connsplit.New(self.Listener)
	defer split.Close()
	store := kv.New()
	servers := []string{self.Name}
	for name := range peers {
		servers = append(servers, name)
	}
	var cn consensus.Node
	switch o.Backend {
	case BackendOwn:
		var stopOwn func()
		cn, stopOwn, err = startOwn(ctx, self, peers, split, store, o.Tick)
		if err != nil {
			return err
		}
		defer stopOwn()
	default:
		trans := hashiraft.NewTCPTransport(split.Raft(), peers, os.Stderr)
		cn, err = hashiraft.New(hashiraft.Config{ID: self.Name, Dir: filepath.Join(self.DataDir, "raft"),
			Transport: trans, Servers: servers, Tick: o.Tick, Log: os.Stderr}, store)
	}
	if err != nil {
		return err
	}
	defer cn.Close()
	api, err := kvhttp.NewServer(cn, store, o.Reads, o.Ack, self.Metrics)
	if err != nil {
		return err
	}
	defer api.Wait() // before the log closes: cn.Close is deferred earlier
	mux := http.NewServeMux()
	mux.Handle("/", api.Handler())
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, self.Name+"\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	self.Log.Info("kv node", zap.String("backend", o.Backend), zap.String("reads", o.Reads),
		zap.Duration("tick", o.Tick), zap.Any("peers", peers))
	addrs := map[string]string{self.Name: self.Listener.Addr().String()}
	for name, addr := range peers {
		addrs[name] = addr
	}
	if o.Register != "" {
		reg, stopReg := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); register(reg, self, addrs, o.Register, o.RegisterTTL) }()
		defer func() { stopReg(); <-done }()
	}
	if o.LockStorage != "" {
		worker, stopWorker := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); runWorker(worker, self, addrs, o.LockStorage, o.LockTTL) }()
		defer func() { stopWorker(); <-done }()
	}
	if err := srv.Serve(split.HTTP()); !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("node: serve: %w", err)
	}
	return nil
}

// startOwn builds the lab's own Raft on raftnet's TCP transport and the
// fsynced file storage in the node's data directory. tick is the election
// timeout's base, as for hashicorp/raft: a raft tick is a tenth of it.
func startOwn(ctx context.Context, self *node.Self, peers map[string]string, split *connsplit.Splitter,
	store *kv.Store, tick time.Duration) (consensus.Node, func(), error) {
	ids := []int{self.ID}
	byID := map[int]string{}
	for name, addr := range peers {
		id, err := strconv.Atoi(strings.TrimPrefix(name, "node"))
		if err != nil || !strings.HasPrefix(name, "node") || id <= 0 {
			return nil, nil, fmt.Errorf("node: peer %q: expected a name nodeN", name)
		}
		ids = append(ids, id)
		byID[id] = addr
	}
	fs, err := raft.OpenFileStorage(filepath.Join(self.DataDir, "ownraft"))
	if err != nil {
		return nil, nil, fmt.Errorf("node: %w", err)
	}
	tcp, err := raftnet.NewTCP(ctx, self.ID, byID, raftnet.Options{})
	if err != nil {
		_ = fs.Close()
		return nil, nil, fmt.Errorf("node: %w", err)
	}
	on, err := ownraft.New(ownraft.Config{ID: self.ID, Peers: ids, Storage: fs, Transport: tcp,
		Tick: tick / 10, ElectionTicks: 10}, store)
	if err != nil {
		_ = tcp.Close()
		_ = fs.Close()
		return nil, nil, fmt.Errorf("node: %w", err)
	}
	serving, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = tcp.Serve(serving, split.Raft(), on) }()
	return on, func() {
		cancel()
		<-done
		_ = on.Close()
		_ = tcp.Close()
		_ = fs.Close()
	}, nil
}
