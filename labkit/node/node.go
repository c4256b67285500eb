// Package node runs a lab's own program as a small cluster of child
// processes on loopback, so a scenario can kill, freeze and restart real
// processes the way an outage does, and read each one's profiles.
//
// The parent side is a Cluster of N Nodes:
//
//	c, err := node.Start(ctx, node.Config{Program: bin, N: 3, Dir: env.Dir, Env: env})
//	c.Node(2).Kill()            // SIGKILL, and a "kill" event on the timeline
//	c.Node(2).Restart(ctx)      // same addresses, same data directory
//
// Every node gets, before any of them starts:
//
//   - a service address and a debug address on 127.0.0.1. The parent opens
//     both listeners and the child inherits them (file descriptors 3 and 4),
//     so each node can be told its peers' addresses up front, with no
//     listen-close-rebind race. The parent closes its copies once the child
//     runs: a dead node refuses connections, as a crashed server does.
//   - a folder Dir/<name>/ holding its log (node.log: stdout and stderr,
//     appended across restarts) and its data directory (data/).
//   - its own process group, so a signal reaches that node and nothing
//     else, and (on Linux) a parent-death signal, so no node outlives a
//     harness that was itself killed.
//
// The child side is Main (or Run), which hands the lab's code its id, data
// directory, peers and listener, serves pprof and /metrics on the debug
// listener, and cancels the context on SIGTERM:
//
//	func main() {
//		node.Main(func(ctx context.Context, self *node.Self) error {
//			return register.Serve(ctx, self, opts) // serves self.Listener, dials self.Peers
//		})
//	}
//
// labkit/example/register is a whole cluster built this way: its nodes dial
// each other through netfault proxies, set with SetPeers between New and
// Start.
//
// When Config.Env is set (a *runner.Env is one), each start, stop, kill,
// pause, resume, restart and unexpected exit is recorded as an event, each
// (re)started node's debug server is added to the evidence window, and the
// cluster is closed after the evidence is captured. Otherwise call Close.
package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// Env is what a cluster needs from the scenario that owns it. *runner.Env
// implements it; a test may pass its own.
type Env interface {
	// Event records something that happened, at the time it happened.
	Event(kind, detail string)
	// Watch adds a node's debug server to the evidence window; it is called
	// again each time the node's process is replaced.
	Watch(node, debugAddr string)
	// Cleanup runs fn once the evidence is captured.
	Cleanup(fn func())
}

// Config describes a cluster.
type Config struct {
	// Program is the executable every node runs. os.Args[0] re-executes
	// the current binary (a test binary whose TestMain calls Main when
	// IsChild reports true).
	Program string
	Args    []string // passed to every node
	Environ []string // extra KEY=VALUE pairs for every node
	N       int      // number of nodes (default 3), named node1..nodeN
	// Dir is the evidence folder; node i writes Dir/node<i>/node.log and
	// keeps its data in Dir/node<i>/data.
	Dir string
	// Env, when set, records events, watches the debug servers and owns
	// the cluster's lifetime.
	Env Env
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL
	// (default 3s).
	StopGrace time.Duration
	// ReadyTimeout bounds how long a start waits for the node's debug
	// server to answer /healthz (default 10s).
	ReadyTimeout time.Duration
}

// Cluster is N nodes of one program.
type Cluster struct {
	cfg   Config
	nodes []*Node

	closeOnce sync.Once
	closeErr  error
}

// Start is New followed by Cluster.Start; on error nothing is left running.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// New opens every node's listeners and folders without starting a process,
// so that a caller can read the addresses (and put proxies in front of
// them) before any node runs. Peers default to every other node's address;
// SetPeers changes that.
func New(cfg Config) (*Cluster, error) {
	if cfg.Program == "" {
		return nil, errors.New("node: Config.Program is empty (want the path of the node's executable)")
	}
	if cfg.Dir == "" {
		return nil, errors.New("node: Config.Dir is empty (want the evidence folder)")
	}
	if cfg.N <= 0 {
		cfg.N = 3
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 3 * time.Second
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	c := &Cluster{cfg: cfg}
	for id := 1; id <= cfg.N; id++ {
		n, err := newNode(c, id)
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		n.peers = c.others(n.id)
	}
	if cfg.Env != nil {
		cfg.Env.Cleanup(func() { _ = c.Close() })
	}
	return c, nil
}

// Start starts every node that is not running, in order, each waiting
// until its debug server answers.
func (c *Cluster) Start(ctx context.Context) error {
	for _, n := range c.nodes {
		if n.Running() {
			continue
		}
		if err := n.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Nodes returns the nodes, node1 first.
func (c *Cluster) Nodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Node returns node id (1..N); it panics on an id out of range, a bug in
// the scenario rather than bad input.
func (c *Cluster) Node(id int) *Node {
	if id < 1 || id > len(c.nodes) {
		panic(fmt.Sprintf("node: no node %d in a cluster of %d", id, len(c.nodes)))
	}
	return c.nodes[id-1]
}

// Addrs returns every node's service address, node1 first.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr
	}
	return out
}

// Close kills every node still running, waits for each to be reaped and
// closes what New opened. It is safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		for _, n := range c.nodes {
			errs = append(errs, n.close())
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

func (c *Cluster) others(id int) []string {
	var out []string
	for _, n := range c.nodes {
		if n.id != id {
			out = append(out, n.addr)
		}
	}
	return out
}

func (c *Cluster) event(kind string, n *Node, format string, args ...any) {
	if c.cfg.Env == nil {
		return
	}
	detail := n.name
	if format != "" {
		detail += " " + fmt.Sprintf(format, args...)
	}
	c.cfg.Env.Event(kind, detail)
}

// Node is one child process and the addresses and folders that outlive it.
type Node struct {
	c         *Cluster
	id        int
	name      string
	dir       string // Dir/<name>
	addr      string // service address, stable across restarts
	debugAddr string // debug address, stable across restarts

	mu      sync.Mutex
	peers   []string
	held    [2]net.Listener // opened but not yet handed to a process
	proc    *process        // nil when not running
	stopped bool            // Close ran
}

func newNode(c *Cluster, id int) (*Node, error) {
	name := "node" + strconv.Itoa(id)
	n := &Node{c: c, id: id, name: name, dir: filepath.Join(c.cfg.Dir, name)}
	if err := os.MkdirAll(n.DataDir(), 0o755); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	for i := range n.held {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			n.closeHeld()
			return nil, fmt.Errorf("node: %s: listen on 127.0.0.1:0: %w", name, err)
		}
		n.held[i] = ln
	}
	n.addr, n.debugAddr = n.held[0].Addr().String(), n.held[1].Addr().String()
	return n, nil
}

// ID is the node's number, 1..N.
func (n *Node) ID() int { return n.id }

// Name is "node<ID>", the name of its evidence folder and of its events.
func (n *Node) Name() string { return n.name }

// Addr is the node's service address.
func (n *Node) Addr() string { return n.addr }

// DebugAddr is the node's pprof and /metrics address.
func (n *Node) DebugAddr() string { return n.debugAddr }

// DataDir is the node's data directory; it survives restarts.
func (n *Node) DataDir() string { return filepath.Join(n.dir, "data") }

// LogPath is the node's log file.
func (n *Node) LogPath() string { return filepath.Join(n.dir, "node.log") }

// SetPeers sets the addresses the node is told to dial (proxies, say)
// from its next start on.
func (n *Node) SetPeers(peers []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peers = append([]string(nil), peers...)
}

// Pid is the running process's id, 0 when the node is down.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	return n.proc.pid()
}

// Running reports whether the node's process is alive (paused counts).
func (n *Node) Running() bool {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	return p != nil && !p.exited()
}

// Start starts the node's process and waits until its debug server answers.
func (n *Node) Start(ctx context.Context) error {
	if err := n.start(ctx); err != nil {
		return err
	}
	n.c.event(timeline.Start, n, "(pid %d)", n.Pid())
	return nil
}

func (n *Node) start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return fmt.Errorf("node: %s: the cluster is closed", n.name)
	}
	if n.proc != nil && !n.proc.exited() {
		return fmt.Errorf("node: %s is already running (pid %d)", n.name, n.proc.pid())
	}
	if err := n.reopen(); err != nil {
		return err
	}
	p, err := spawn(n, n.held, n.environ())
	n.closeHeld() // the child has its own copies now
	if err != nil {
		return err
	}
	n.proc = p
	if err := p.waitReady(ctx, n.debugAddr, n.c.cfg.ReadyTimeout); err != nil {
		p.kill()
		return fmt.Errorf("node: %s did not come up: %w (see %s)", n.name, err, n.LogPath())
	}
	if n.c.cfg.Env != nil {
		n.c.cfg.Env.Watch(n.name, n.debugAddr)
	}
	return nil
}

// reopen binds the node's addresses again after a previous process let go.
func (n *Node) reopen() error {
	for i, addr := range []string{n.addr, n.debugAddr} {
		if n.held[i] != nil {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("node: %s: rebind %s: %w", n.name, addr, err)
		}
		n.held[i] = ln
	}
	return nil
}

func (n *Node) closeHeld() {
	for i, ln := range n.held {
		if ln != nil {
			_ = ln.Close()
			n.held[i] = nil
		}
	}
}

func (n *Node) environ() []string {
	env := append(os.Environ(), n.c.cfg.Environ...)
	return append(env,
		envID+"="+strconv.Itoa(n.id),
		envName+"="+n.name,
		envData+"="+n.DataDir(),
		envPeers+"="+strings.Join(n.peers, ","),
		envAddr+"="+n.addr,
		envDebugAddr+"="+n.debugAddr,
		envInherit+"=1",
	)
}

// running returns the live process or an error naming the node.
func (n *Node) running() (*process, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.proc.exited() {
		return nil, fmt.Errorf("node: %s is not running", n.name)
	}
	return n.proc, nil
}

// Stop asks the node to exit (SIGTERM, and SIGCONT in case it is paused),
// and kills it if it has not exited after Config.StopGrace or when ctx ends.
func (n *Node) Stop(ctx context.Context) error {
	p, err := n.running()
	if err != nil {
		return err
	}
	n.c.event(timeline.Stop, n, "(pid %d)", p.pid())
	return p.stop(ctx, n.c.cfg.StopGrace)
}

// Kill kills the node's process group (SIGKILL) and waits until it is reaped.
func (n *Node) Kill() error {
	p, err := n.running()
	if err != nil {
		return err
	}
	n.c.event(timeline.Kill, n, "(pid %d)", p.pid())
	p.kill()
	return nil
}

// Pause freezes the node (SIGSTOP) and returns once it is frozen: its
// sockets stay open and connections queue, like a process stuck in a long
// GC pause or a VM that was suspended.
func (n *Node) Pause() error {
	p, err := n.running()
	if err != nil {
		return err
	}
	if err := p.signal(sigStop); err != nil {
		return fmt.Errorf("node: pause %s: %w", n.name, err)
	}
	if err := waitState(p.pid(), true, time.Second); err != nil {
		return fmt.Errorf("node: pause %s: %w", n.name, err)
	}
	n.c.event(timeline.Pause, n, "(pid %d)", p.pid())
	return nil
}

// Resume thaws a paused node (SIGCONT).
func (n *Node) Resume() error {
	p, err := n.running()
	if err != nil {
		return err
	}
	if err := p.signal(sigCont); err != nil {
		return fmt.Errorf("node: resume %s: %w", n.name, err)
	}
	if err := waitState(p.pid(), false, time.Second); err != nil {
		return fmt.Errorf("node: resume %s: %w", n.name, err)
	}
	n.c.event(timeline.Resume, n, "(pid %d)", p.pid())
	return nil
}

// Restart stops the node if it runs (as Stop does) and starts it again with
// the same addresses and data directory.
func (n *Node) Restart(ctx context.Context) error {
	if p, err := n.running(); err == nil {
		if err := p.stop(ctx, n.c.cfg.StopGrace); err != nil {
			return err
		}
	}
	if err := n.start(ctx); err != nil {
		return err
	}
	n.c.event(timeline.Restart, n, "(pid %d)", n.Pid())
	return nil
}

// close kills the process if any and releases the listeners.
func (n *Node) close() error {
	n.mu.Lock()
	n.stopped = true
	p := n.proc
	n.closeHeld()
	n.mu.Unlock()
	if p != nil {
		p.kill()
	}
	return nil
}
