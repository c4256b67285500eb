// Package hashiraft runs a consensus.FSM on hashicorp/raft, the production
// Raft behind Consul and Nomad: the counterpart of the Raft this lab writes.
//
// What the library gives for free, and the lab's own Raft has to earn:
// pipelined replication, log storage (raft-boltdb here, fsynced per batch),
// snapshots taken and shipped on its own, membership changes, and
// leadership transfer. What it does not give is a linearizable read: see
// LinearRead.
package hashiraft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
)

// Config is one node's identity, storage, network and timing.
type Config struct {
	ID string
	// Dir holds raft.db (log and term/vote, in bolt, fsynced) and the
	// snapshots; "" keeps everything in memory (tests).
	Dir       string
	Transport raft.Transport
	// Servers are every voter's ID, this node's included: the cluster's
	// first configuration. Every node bootstraps with the same list, which
	// hashicorp/raft documents as safe.
	Servers []string
	// Tick scales the timeouts: heartbeat and election timeout are one Tick,
	// the leader lease half of it (default 300ms, for loopback on a busy
	// machine).
	Tick time.Duration
	// Log receives the library's own log lines (discarded when nil).
	Log io.Writer
}

// Node is a consensus.Node on hashicorp/raft.
type Node struct {
	r     *raft.Raft
	id    string
	fsm   *fsm
	close []func() error

	mu         sync.Mutex
	readyTerm  uint64 // the term whose barrier has been applied
	readyValid bool
}

// New starts a node. The caller closes it.
func New(cfg Config, f consensus.FSM) (*Node, error) {
	if cfg.Tick <= 0 {
		cfg.Tick = 300 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.Tick
	rc.ElectionTimeout = cfg.Tick
	rc.LeaderLeaseTimeout = cfg.Tick / 2
	rc.CommitTimeout = 5 * time.Millisecond
	rc.SnapshotThreshold = 4096
	rc.Logger = hclog.New(&hclog.LoggerOptions{Name: "raft-" + cfg.ID, Output: cfg.Log, Level: hclog.Info})

	n := &Node{id: cfg.ID, fsm: &fsm{f: f}}
	var (
		logs   raft.LogStore
		stable raft.StableStore
		snaps  raft.SnapshotStore
	)
	if cfg.Dir == "" {
		mem := raft.NewInmemStore()
		logs, stable, snaps = mem, mem, raft.NewInmemSnapshotStore()
	} else {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("hashiraft: %w", err)
		}
		// NoSync stays false: bolt fsyncs every batch of entries and every
		// term or vote change before raft acts on it.
		bolt, err := raftboltdb.NewBoltStore(filepath.Join(cfg.Dir, "raft.db"))
		if err != nil {
			return nil, fmt.Errorf("hashiraft: open log store: %w", err)
		}
		n.close = append(n.close, bolt.Close)
		fss, err := raft.NewFileSnapshotStore(cfg.Dir, 2, cfg.Log)
		if err != nil {
			_ = bolt.Close()
			return nil, fmt.Errorf("hashiraft: open snapshot store: %w", err)
		}
		logs, stable, snaps = bolt, bolt, fss
	}
	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		n.closeStores()
		return nil, fmt.Errorf("hashiraft: %w", err)
	}
	if !existing && len(cfg.Servers) > 0 {
		var servers []raft.Server
		for _, id := range cfg.Servers {
			servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(id)})
		}
		if err := raft.BootstrapCluster(rc, logs, stable, snaps, cfg.Transport, raft.Configuration{Servers: servers}); err != nil {
			n.closeStores()
			return nil, fmt.Errorf("hashiraft: bootstrap: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, logs, stable, snaps, cfg.Transport)
	if err != nil {
		n.closeStores()
		return nil, fmt.Errorf("hashiraft: %w", err)
	}
	n.r = r
	return n, nil
}

func (n *Node) closeStores() {
	for _, c := range n.close {
		_ = c()
	}
}

// Close shuts raft down, then its stores.
func (n *Node) Close() error {
	err := n.r.Shutdown().Error()
	n.closeStores()
	if err != nil {
		return fmt.Errorf("hashiraft: shutdown: %w", err)
	}
	return nil
}

// Raft is the library's handle, for what the interface leaves out
// (leadership transfer, stats).
func (n *Node) Raft() *raft.Raft { return n.r }

func (n *Node) notLeader() error {
	_, id := n.r.LeaderWithID()
	return &consensus.NotLeaderError{Leader: string(id)}
}

// Propose applies cmd through the log. The library's future resolves after
// this node's FSM applied the entry, so an acknowledged write is visible to
// every later read on this leader.
func (n *Node) Propose(ctx context.Context, cmd []byte) (any, error) {
	if n.r.State() != raft.Leader {
		return nil, n.notLeader()
	}
	f := n.r.Apply(cmd, timeoutOf(ctx))
	if err := wait(ctx, f); err != nil {
		return nil, n.translate(err)
	}
	return f.Response(), nil
}

// LinearRead makes a read of the local FSM linearizable on hashicorp/raft,
// which has no ReadIndex. The steps, and why in this order:
//
//  1. Barrier once per term: a new leader's FSM may not yet have applied
//     the entries an earlier leader committed (and acknowledged). The
//     barrier returns when everything before it is applied.
//  2. Read the FSM.
//  3. VerifyLeader: a round of heartbeats a quorum must answer in this term.
//
// The maintainers discuss the ordering in hashicorp/raft#603: Consul
// verifies leadership first and reads second, which leaves a window. Between
// VerifyLeader returning and the FSM read, this process can stall (a GC
// pause, SIGSTOP, a slow disk) long enough for the others to elect a new
// leader and commit a write to the key: the read then returns a value older
// than an acknowledged write. Reading first and verifying after closes it:
// if a quorum still follows this leader after the read was taken, no other
// leader can have committed anything before the read, so the value was
// current at a moment inside the request.
func (n *Node) LinearRead(ctx context.Context, read func()) error {
	if n.r.State() != raft.Leader {
		return n.notLeader()
	}
	if err := n.barrier(ctx); err != nil {
		return err
	}
	read()
	if err := wait(ctx, n.r.VerifyLeader()); err != nil {
		return n.translate(err)
	}
	return nil
}

func (n *Node) barrier(ctx context.Context) error {
	term := n.r.CurrentTerm()
	n.mu.Lock()
	done := n.readyValid && n.readyTerm == term
	n.mu.Unlock()
	if done {
		return nil
	}
	if err := wait(ctx, n.r.Barrier(timeoutOf(ctx))); err != nil {
		return n.translate(err)
	}
	n.mu.Lock()
	n.readyTerm, n.readyValid = term, true
	n.mu.Unlock()
	return nil
}

// Status is the node's view, from the library's in-memory state.
func (n *Node) Status() consensus.Status {
	_, leader := n.r.LeaderWithID()
	return consensus.Status{
		ID:       n.id,
		Leader:   n.r.State() == raft.Leader,
		LeaderID: string(leader),
		Term:     n.r.CurrentTerm(),
		Applied:  n.r.AppliedIndex(),
	}
}

func (n *Node) translate(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", consensus.ErrLostLeadership, err)
	}
	return fmt.Errorf("hashiraft: %w", err)
}

// wait waits for a future or for ctx. The library's futures cannot be
// cancelled; the goroutine ends when raft resolves the future, which it
// always does, at the latest on shutdown.
func wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("hashiraft: %w", ctx.Err())
	}
}

// timeoutOf is how long the library may wait to enqueue: what is left of
// ctx, or a few seconds.
func timeoutOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 5 * time.Second
}

// fsm adapts consensus.FSM to raft.FSM.
type fsm struct{ f consensus.FSM }

func (a *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	return a.f.Apply(l.Data)
}

func (a *fsm) Snapshot() (raft.FSMSnapshot, error) {
	b, err := a.f.Snapshot()
	if err != nil {
		return nil, err
	}
	return snapshot(b), nil
}

func (a *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("hashiraft: restore: %w", err)
	}
	return a.f.Restore(b)
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("hashiraft: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s snapshot) Release() {}
