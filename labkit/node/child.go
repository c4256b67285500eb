package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

// The environment a Cluster gives each node. A node started by hand reads
// the same variables: LABKIT_NODE_ADDR and LABKIT_NODE_DEBUG_ADDR are then
// the addresses it listens on.
const (
	envID        = "LABKIT_NODE_ID"         // 1..N
	envName      = "LABKIT_NODE_NAME"       // node1..nodeN
	envData      = "LABKIT_NODE_DATA"       // data directory
	envPeers     = "LABKIT_NODE_PEERS"      // comma-separated addresses to dial
	envAddr      = "LABKIT_NODE_ADDR"       // service address
	envDebugAddr = "LABKIT_NODE_DEBUG_ADDR" // pprof and /metrics address
	envInherit   = "LABKIT_NODE_INHERIT"    // "1": listeners are fds 3 (service) and 4 (debug)
)

// Self is what a node knows about itself.
type Self struct {
	ID       int
	Name     string
	DataDir  string
	Peers    []string     // addresses to dial, in the order the cluster gave them
	Listener net.Listener // the service address, already bound
	// Metrics is served on the debug server's /metrics.
	Metrics *prometheus.Registry
	// Log writes JSON lines to stderr, which is the node's node.log.
	Log *zap.Logger

	debug net.Listener
}

// IsChild reports whether this process was started as a node, so a test
// binary's TestMain can become the node program.
func IsChild() bool { return os.Getenv(envID) != "" }

// FromEnv reads the node's identity and listeners from its environment.
func FromEnv() (*Self, error) {
	id, err := strconv.Atoi(os.Getenv(envID))
	if err != nil || id < 1 {
		return nil, fmt.Errorf("node: %s=%q: expected a node number 1..N", envID, os.Getenv(envID))
	}
	s := &Self{ID: id, Name: os.Getenv(envName), DataDir: os.Getenv(envData), Metrics: telemetry.NewRegistry()}
	if s.Name == "" {
		s.Name = "node" + strconv.Itoa(id)
	}
	if p := os.Getenv(envPeers); p != "" {
		s.Peers = strings.Split(p, ",")
	}
	if os.Getenv(envInherit) == "1" {
		if s.Listener, err = inherited(3, "service"); err != nil {
			return nil, err
		}
		if s.debug, err = inherited(4, "debug"); err != nil {
			_ = s.Listener.Close()
			return nil, err
		}
	} else {
		if s.Listener, err = listen(os.Getenv(envAddr), envAddr); err != nil {
			return nil, err
		}
		if s.debug, err = listen(os.Getenv(envDebugAddr), envDebugAddr); err != nil {
			_ = s.Listener.Close()
			return nil, err
		}
	}
	if s.DataDir != "" {
		if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
			s.close()
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	s.Log = telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{}).With(zap.String("node", s.Name))
	return s, nil
}

func inherited(fd uintptr, what string) (net.Listener, error) {
	f := os.NewFile(fd, what+"-listener")
	if f == nil {
		return nil, fmt.Errorf("node: no %s listener on fd %d", what, fd)
	}
	defer f.Close() // FileListener dups it
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("node: %s listener on fd %d: %w", what, fd, err)
	}
	return ln, nil
}

func listen(addr, name string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("node: %s=%q: %w", name, addr, err)
	}
	return ln, nil
}

// DebugAddr is the address of the node's debug server.
func (s *Self) DebugAddr() string { return s.debug.Addr().String() }

func (s *Self) close() {
	_ = s.Listener.Close()
	_ = s.debug.Close()
}

// Run is the node's life: it reads FromEnv, samples mutex and block
// contention for the whole run (a node is short-lived and profiled from
// outside, so there is no window to switch them on for), serves the debug
// server, and calls run until it returns or ctx ends.
func Run(ctx context.Context, run func(ctx context.Context, self *Self) error) error {
	s, err := FromEnv()
	if err != nil {
		return err
	}
	defer s.close()
	// The same rates as the runner's own evidence window.
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(int(10 * time.Microsecond))

	srv := &http.Server{Handler: debugserver.Mux(s.Metrics), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.debug) }()
	s.Log.Info("node up", zap.String("addr", s.Listener.Addr().String()), zap.String("debug", s.DebugAddr()),
		zap.Strings("peers", s.Peers))

	runErr := run(ctx, s)

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, fmt.Errorf("node: debug server: %w", err))
	}
	s.Log.Info("node down", zap.Error(runErr))
	_ = s.Log.Sync()
	return runErr
}

// Main is a node program's whole main: Run with a context that SIGTERM and
// Ctrl-C cancel, exiting 0 on a clean return and 1 otherwise.
func Main(run func(ctx context.Context, self *Self) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := Run(ctx, run)
	stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
