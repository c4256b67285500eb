// Package ownraft runs a consensus.FSM on the Raft written in this lab
// (package raft): the same state machine, the same KV, the other log.
//
// The raft core is tick-driven and does no I/O of its own beyond its
// Storage; this adapter owns what a library like hashicorp/raft does for
// you: the clock (a ticker calling Tick), the apply loop feeding the FSM,
// matching each proposal to the entry it became, and taking snapshots.
package ownraft

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

// Config is one node's identity, storage, network and timing.
type Config struct {
	ID        int
	Peers     []int // every member, this node included
	Storage   raft.Storage
	Transport raft.Transport
	// Tick is the wall-clock length of one raft tick (default 30ms); the
	// election timeout is ElectionTicks of them.
	Tick          time.Duration
	ElectionTicks int // default 10
	// SnapshotEvery is how many applied entries trigger a snapshot (default 4096).
	SnapshotEvery int
	// Name turns a node ID into the name clients know it by (default "nodeN").
	Name func(id int) string
}

// Node is a consensus.Node on the lab's own Raft.
type Node struct {
	rn   *raft.Node
	fsm  consensus.FSM
	cfg  Config
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	applied uint64
	waiters map[uint64]waiter
	// early holds what was applied at an index while a Propose was still
	// returning from the core: the leader's fsync runs inside rn.Propose,
	// and the entry can commit and apply before the proposer registers.
	early     map[uint64]applied
	proposing int
	// advanced is closed and replaced each time applied moves: the
	// broadcast LinearRead waits on.
	advanced  chan struct{}
	sinceSnap int
	stopped   bool
}

type waiter struct {
	term uint64
	done chan outcome
}

type applied struct {
	term uint64
	out  outcome
}

// earlyLimit bounds the parked results nobody claimed (a proposer whose
// context ended first).
const earlyLimit = 1024

type outcome struct {
	result any
	err    error
}

// New starts a node: its ticker and its apply loop. Deliver every message
// the transport receives to Step.
func New(cfg Config, f consensus.FSM) (*Node, error) {
	if cfg.Tick <= 0 {
		cfg.Tick = 30 * time.Millisecond
	}
	if cfg.ElectionTicks <= 0 {
		cfg.ElectionTicks = 10
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = 4096
	}
	if cfg.Name == nil {
		cfg.Name = func(id int) string { return "node" + strconv.Itoa(id) }
	}
	rn, err := raft.New(raft.Config{ID: cfg.ID, Peers: cfg.Peers, Storage: cfg.Storage, Transport: cfg.Transport,
		ElectionTicks: cfg.ElectionTicks})
	if err != nil {
		return nil, fmt.Errorf("ownraft: %w", err)
	}
	n := &Node{rn: rn, fsm: f, cfg: cfg, stop: make(chan struct{}), waiters: map[uint64]waiter{}, early: map[uint64]applied{},
		advanced: make(chan struct{})}
	n.wg.Add(2)
	go n.ticker()
	go n.applyLoop()
	return n, nil
}

// Step hands the core a message from a peer.
func (n *Node) Step(m raft.Message) { n.rn.Step(m) }

func (n *Node) ticker() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			n.rn.Tick()
		}
	}
}

func (n *Node) applyLoop() {
	defer n.wg.Done()
	apply := n.rn.Apply()
	for {
		select {
		case <-n.stop:
			return
		case m, ok := <-apply:
			if !ok {
				return
			}
			n.applyOne(m)
		}
	}
}

// applyOne feeds one message to the FSM and answers the proposal waiting
// for its index, if any: with the result when the entry that landed is the
// one it proposed (same term), with ErrLostLeadership when another leader's
// entry took the slot.
func (n *Node) applyOne(m raft.ApplyMsg) {
	var result any
	var err error
	switch {
	case m.Snapshot != nil:
		err = n.fsm.Restore(m.Snapshot.Data)
		m.Index = m.Snapshot.Index
	case m.Command != nil:
		result = n.fsm.Apply(m.Command)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		// A snapshot that does not restore leaves the FSM behind the
		// log: stop serving rather than answer from a wrong state.
		n.failAll(fmt.Errorf("ownraft: restore snapshot at %d: %w", m.Index, err))
		return
	}
	_, waited := n.waiters[m.Index]
	for idx, w := range n.waiters {
		if idx > m.Index {
			continue
		}
		switch {
		case idx == m.Index && m.Snapshot == nil && w.term == m.Term:
			w.done <- outcome{result: result}
		default:
			w.done <- outcome{err: fmt.Errorf("%w: the entry at index %d is not the one proposed", consensus.ErrLostLeadership, idx)}
		}
		delete(n.waiters, idx)
	}
	if !waited && n.proposing > 0 && m.Snapshot == nil {
		n.early[m.Index] = applied{term: m.Term, out: outcome{result: result}}
		if len(n.early) > earlyLimit {
			for idx := range n.early {
				if idx+earlyLimit < m.Index {
					delete(n.early, idx)
				}
			}
		}
	}
	n.applied = m.Index
	close(n.advanced)
	n.advanced = make(chan struct{})
	if m.Command != nil {
		n.sinceSnap++
	}
	if n.sinceSnap >= n.cfg.SnapshotEvery {
		if snap, err := n.fsm.Snapshot(); err == nil {
			n.rn.Snapshot(m.Index, snap)
			n.sinceSnap = 0
		}
	}
}

func (n *Node) failAll(err error) {
	for idx, w := range n.waiters {
		w.done <- outcome{err: err}
		delete(n.waiters, idx)
	}
}

func (n *Node) notLeader() error {
	st := n.rn.Status()
	if st.Leader == 0 || st.Leader == n.cfg.ID {
		return &consensus.NotLeaderError{}
	}
	return &consensus.NotLeaderError{Leader: n.cfg.Name(st.Leader)}
}

// Propose appends cmd and waits until the entry it became is applied here.
func (n *Node) Propose(ctx context.Context, cmd []byte) (any, error) {
	done := make(chan outcome, 1)
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil, fmt.Errorf("ownraft: %w", raft.ErrStopped)
	}
	n.proposing++
	n.mu.Unlock()
	// Not under n.mu: rn.Propose runs the leader's fsync, and concurrent
	// proposals must reach the core together for group commit to batch
	// them. An entry applied before the waiter exists is parked in early.
	index, term, leader := n.rn.Propose(cmd)
	n.mu.Lock()
	n.proposing--
	if !leader {
		n.mu.Unlock()
		return nil, n.notLeader()
	}
	if a, ok := n.early[index]; ok {
		delete(n.early, index)
		n.mu.Unlock()
		if a.term != term {
			return nil, fmt.Errorf("%w: the entry at index %d is not the one proposed", consensus.ErrLostLeadership, index)
		}
		return a.out.result, a.out.err
	}
	if n.applied >= index {
		// Applied, then pruned or passed over: the outcome is unknown.
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: index %d applied before its proposer could see it", consensus.ErrLostLeadership, index)
	}
	n.waiters[index] = waiter{term: term, done: done}
	n.mu.Unlock()
	select {
	case o := <-done:
		return o.result, o.err
	case <-ctx.Done():
		n.mu.Lock()
		if w, ok := n.waiters[index]; ok && w.done == done {
			delete(n.waiters, index)
		}
		n.mu.Unlock()
		return nil, fmt.Errorf("ownraft: %w", ctx.Err())
	}
}

// LinearRead is ReadIndex (Raft thesis §6.4): the core confirms with a
// quorum that it still leads and names the commit index at the call; the
// read waits until the FSM has applied that far, then runs.
func (n *Node) LinearRead(ctx context.Context, read func()) error {
	index, err := n.rn.ReadIndex(ctx)
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case err != nil:
		return fmt.Errorf("%w: %w", consensus.ErrLostLeadership, err)
	}
	for {
		n.mu.Lock()
		applied, advanced := n.applied, n.advanced
		n.mu.Unlock()
		if applied >= index {
			read()
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return fmt.Errorf("ownraft: waiting for index %d to apply: %w", index, ctx.Err())
		}
	}
}

// Status is the core's view.
func (n *Node) Status() consensus.Status {
	st := n.rn.Status()
	n.mu.Lock()
	applied := n.applied
	n.mu.Unlock()
	out := consensus.Status{ID: n.cfg.Name(n.cfg.ID), Leader: st.Role == raft.Leader, Term: st.Term, Applied: applied}
	if st.Leader != 0 {
		out.LeaderID = n.cfg.Name(st.Leader)
	}
	return out
}

// Close stops the ticker, the apply loop and the core.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	n.stopped = true
	n.failAll(fmt.Errorf("ownraft: %w", raft.ErrStopped))
	n.mu.Unlock()
	close(n.stop)
	n.rn.Stop()
	n.wg.Wait()
	return nil
}
