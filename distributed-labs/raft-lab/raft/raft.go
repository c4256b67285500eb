// Package raft is Raft consensus (Ongaro and Ousterhout, "In Search of an
// Understandable Consensus Algorithm", extended version), written to be
// read: leader election with randomized timeouts, log replication with the
// commitment rule of Figure 8, persistence before every answer, snapshots
// with log compaction and InstallSnapshot, and linearizable reads through
// ReadIndex.
//
// The core has no clock and no goroutines of its own. Time is Tick, the
// network is Step (a message in) and Transport.Send (messages out), so a
// test drives a whole cluster from one goroutine with a seeded random
// source and every run of a seed is the same run. A node process calls
// Tick from a time.Ticker and feeds Step from its transport.
package raft

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Errors the node returns.
var (
	ErrNotLeader = errors.New("raft: not the leader")
	ErrStopped   = errors.New("raft: node stopped")
)

// Transport carries messages to other nodes. Send must not block and must
// not call back into the node: delivery is best effort, and Raft recovers
// from any message lost, late, duplicated or reordered.
type Transport interface {
	Send(msgs []Message)
}

// Config is what a node is built from.
type Config struct {
	ID        int   // this node, > 0
	Peers     []int // every member, this node included
	Storage   Storage
	Transport Transport
	// ElectionTicks is the base election timeout; each wait is drawn from
	// [ElectionTicks, 2*ElectionTicks) so that candidates rarely collide.
	// HeartbeatTicks must be well below it. Defaults: 10 and 1.
	ElectionTicks  int
	HeartbeatTicks int
	// Rand draws the election timeouts. Seed it to replay a run; by
	// default it is seeded with the node's ID.
	Rand *rand.Rand
	// MaxEntriesPerMsg caps an append, so a lagging follower catches up in
	// bounded messages. Default 256.
	MaxEntriesPerMsg int
}

// Node is one Raft server. Its methods are safe to call from any goroutine.
type Node struct {
	id             int
	peers          []int
	store          Storage
	trans          Transport
	rand           *rand.Rand
	electionTicks  int
	heartbeatTicks int
	maxBatch       int

	mu      sync.Mutex
	stopped bool
	err     error // the storage failure that stopped the node

	role   Role
	term   uint64
	vote   int
	leader int
	// log[0] stands for the snapshot: its Index and Term are the last
	// entry the snapshot covers, so the real entries are log[1:].
	log    []Entry
	snap   Snapshot
	commit uint64
	// queued is the last index handed to the state machine (pending
	// holds what has not been taken yet).
	queued  uint64
	pending []ApplyMsg

	elapsed   int // ticks since the last sign of a leader (or since the last quorum check, as leader)
	timeout   int
	hbElapsed int
	votes     map[int]bool

	// Leader state.
	next, match map[int]uint64
	active      map[int]bool // heard from since the last quorum check
	termStart   uint64       // the index of this leader's no-op
	round       uint64       // heartbeat round carried in Context, for ReadIndex
	acked       map[int]uint64
	reads       []*readRequest

	outbox []Message

	// Group commit: a leader appends proposals to its log at once and
	// saves them in batches, one fsync for all that arrived during the
	// previous one. stable is the last index it has saved; the leader
	// counts itself in a quorum only up to it. saveMu orders every write
	// to storage: it is taken while holding mu, so writes reach storage in
	// the order of the state changes that made them.
	saveMu  sync.Mutex
	stable  uint64
	syncing bool
	// inflight[p] is the last index sent to p and not yet acknowledged:
	// while it is outstanding, new proposals wait and go in one append
	// with the acknowledgement, so a follower's fsyncs batch too.
	inflight map[int]uint64

	notify   chan struct{}
	applyCh  chan ApplyMsg
	pumpOnce sync.Once
	pumpDone chan struct{}
	stopCh   chan struct{}
}

type readRequest struct {
	round uint64
	index uint64
	done  chan error
}

// New builds a node from what cfg.Storage holds; a node that restarts
// after a crash is just New over the same storage. If storage holds a
// snapshot, the first ApplyMsg is that snapshot.
func New(cfg Config) (*Node, error) {
	if cfg.ID <= 0 {
		return nil, fmt.Errorf("raft: node ID %d: expected > 0", cfg.ID)
	}
	seen := map[int]bool{}
	for _, p := range cfg.Peers {
		if p <= 0 || seen[p] {
			return nil, fmt.Errorf("raft: peers %v: expected distinct IDs > 0", cfg.Peers)
		}
		seen[p] = true
	}
	if !seen[cfg.ID] {
		return nil, fmt.Errorf("raft: peers %v: expected them to include the node's own ID %d", cfg.Peers, cfg.ID)
	}
	if cfg.Storage == nil || cfg.Transport == nil {
		return nil, errors.New("raft: config: expected a Storage and a Transport")
	}
	if cfg.ElectionTicks == 0 {
		cfg.ElectionTicks = 10
	}
	if cfg.HeartbeatTicks == 0 {
		cfg.HeartbeatTicks = 1
	}
	if cfg.HeartbeatTicks < 1 || cfg.ElectionTicks <= cfg.HeartbeatTicks {
		return nil, fmt.Errorf("raft: election %d ticks, heartbeat %d: expected 1 <= heartbeat < election",
			cfg.ElectionTicks, cfg.HeartbeatTicks)
	}
	if cfg.MaxEntriesPerMsg <= 0 {
		cfg.MaxEntriesPerMsg = 256
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(uint64(cfg.ID), 0x7261667421)) //nolint:gosec // timeouts, not secrets
	}
	hs, snap, entries, err := cfg.Storage.Load()
	if err != nil {
		return nil, fmt.Errorf("raft: load storage: %w", err)
	}
	n := &Node{
		id:             cfg.ID,
		peers:          slices.Clone(cfg.Peers),
		store:          cfg.Storage,
		trans:          cfg.Transport,
		rand:           cfg.Rand,
		electionTicks:  cfg.ElectionTicks,
		heartbeatTicks: cfg.HeartbeatTicks,
		maxBatch:       cfg.MaxEntriesPerMsg,
		term:           hs.Term,
		vote:           hs.Vote,
		snap:           snap,
		commit:         snap.Index,
		queued:         snap.Index,
		notify:         make(chan struct{}, 1),
		applyCh:        make(chan ApplyMsg, 64),
		pumpDone:       make(chan struct{}),
		stopCh:         make(chan struct{}),
	}
	n.log = []Entry{{Index: snap.Index, Term: snap.Term}}
	for _, e := range entries {
		if e.Index == snap.Index && e.Term != snap.Term {
			// A log older than its snapshot (a crash between the two
			// writes of SaveSnapshot) that conflicts with it: the
			// snapshot wins, as it did before the crash.
			break
		}
		if e.Index <= snap.Index {
			continue
		}
		if e.Index != n.lastIndex()+1 {
			return nil, fmt.Errorf("raft: storage holds entry %d after %d: expected a contiguous log", e.Index, n.lastIndex())
		}
		n.log = append(n.log, e)
	}
	n.stable = n.lastIndex()
	if snap.Index > 0 {
		s := snap
		n.pending = append(n.pending, ApplyMsg{Index: s.Index, Term: s.Term, Snapshot: &s})
	}
	n.resetTimeout()
	return n, nil
}

// Tick advances the node's clock by one tick.
func (n *Node) Tick() {
	n.mu.Lock()
	if !n.stopped {
		n.tick()
	}
	out := n.takeOutbox()
	n.mu.Unlock()
	n.flush(out)
}

// Step hands the node a message from the network.
func (n *Node) Step(m Message) {
	n.mu.Lock()
	if !n.stopped && m.To == n.id {
		n.step(m)
	}
	out := n.takeOutbox()
	n.mu.Unlock()
	n.flush(out)
}

// Propose appends cmd to the log if this node is the leader. The entry is
// committed only if it later shows up in Apply at index in term; a leader
// that loses its office may lose it.
func (n *Node) Propose(cmd []byte) (index, term uint64, isLeader bool) {
	n.mu.Lock()
	if n.stopped || n.role != Leader {
		defer n.mu.Unlock()
		return 0, n.term, false
	}
	e := Entry{Index: n.lastIndex() + 1, Term: n.term, Data: slices.Clone(cmd)}
	n.log = append(n.log, e)
	// The leader may send entries before saving them itself (Raft
	// thesis §10.2.1); it just does not count itself until it has.
	for _, p := range n.peers {
		if p != n.id && n.inflight[p] <= n.match[p] {
			n.sendAppend(p)
		}
	}
	index, term = e.Index, n.term
	out := n.takeOutbox()
	n.mu.Unlock()
	n.flush(out)
	n.syncLeader()
	return index, term, true
}

// syncLeader saves the leader's unsaved entries, in batches, until none
// are left; if another goroutine is already doing so, that one will take
// these entries too.
func (n *Node) syncLeader() {
	n.mu.Lock()
	if n.syncing {
		n.mu.Unlock()
		return
	}
	for !n.stopped && n.role == Leader && n.stable < n.lastIndex() {
		n.syncing = true
		term := n.term
		hs := HardState{Term: n.term, Vote: n.vote}
		batch := slices.Clone(n.log[n.stable+1-n.log[0].Index:])
		n.saveMu.Lock()
		n.mu.Unlock()
		err := n.store.Save(hs, batch)
		n.saveMu.Unlock()
		n.mu.Lock()
		n.syncing = false
		if err != nil {
			n.fail(fmt.Errorf("raft: save: %w", err))
			break
		}
		if n.role != Leader || n.term != term {
			// Stepping down saved the rest (see becomeFollower).
			break
		}
		n.stable = max(n.stable, batch[len(batch)-1].Index)
		n.match[n.id] = n.stable
		n.maybeCommit()
		out := n.takeOutbox()
		n.mu.Unlock()
		n.flush(out)
		n.mu.Lock()
	}
	n.mu.Unlock()
}

// State reports the current term and whether this node believes it leads.
func (n *Node) State() (term uint64, isLeader bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.term, n.role == Leader && !n.stopped
}

// Status reports a consistent view of the node.
func (n *Node) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return Status{ID: n.id, Role: n.role, Term: n.term, Leader: n.leader, Commit: n.commit,
		LastIndex: n.lastIndex(), SnapIndex: n.log[0].Index}
}

// Err is the storage error that stopped the node, if any.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// ReadIndex confirms, with a round of heartbeats a quorum answers, that
// this node was still the leader after the call began, and returns the
// index the state machine must have applied before it serves a read.
// A leader cut off with a minority cannot get the quorum, so it cannot
// serve a stale read; the call then ends with ctx.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	r, err := n.startRead()
	if err != nil {
		return 0, err
	}
	select {
	case err := <-r.done:
		if err != nil {
			return 0, err
		}
		return r.index, nil
	case <-ctx.Done():
		n.mu.Lock()
		n.reads = slices.DeleteFunc(n.reads, func(x *readRequest) bool { return x == r })
		n.mu.Unlock()
		return 0, fmt.Errorf("raft: read index: %w", ctx.Err())
	case <-n.stopCh:
		return 0, ErrStopped
	}
}

// startRead registers a read and sends the heartbeat round that confirms
// it; r.done receives the outcome.
func (n *Node) startRead() (*readRequest, error) {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil, ErrStopped
	}
	if n.role != Leader {
		n.mu.Unlock()
		return nil, ErrNotLeader
	}
	// Everything committed before this call is at or below the commit
	// index, or below this leader's no-op if the leader has not yet
	// learned that it committed.
	r := &readRequest{index: max(n.commit, n.termStart), done: make(chan error, 1)}
	if len(n.peers) == 1 {
		n.mu.Unlock()
		r.done <- nil
		return r, nil
	}
	n.round++
	r.round = n.round
	n.reads = append(n.reads, r)
	n.broadcastAppend()
	out := n.takeOutbox()
	n.mu.Unlock()
	n.flush(out)
	return r, nil
}

// Snapshot tells the node that the state machine's state through index is
// state, so the log up to index can go. index must have been applied.
func (n *Node) Snapshot(index uint64, state []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped || index <= n.log[0].Index || index > n.queued {
		return
	}
	term, _ := n.termAt(index)
	n.snap = Snapshot{Index: index, Term: term, Data: slices.Clone(state)}
	n.compact(index, term)
	n.saveSnapshot()
}

// Applied takes the committed entries (and snapshots) not yet taken, in
// order. Use it or Apply, not both.
func (n *Node) Applied() []ApplyMsg {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.pending
	n.pending = nil
	return out
}

// Apply is Applied as a channel, fed by a goroutine the first call starts;
// it is closed by Stop.
func (n *Node) Apply() <-chan ApplyMsg {
	n.pumpOnce.Do(func() { go n.pump() })
	return n.applyCh
}

// Run ticks the node every tick until ctx ends: the clock of a node
// process. (Tests call Tick themselves.)
func (n *Node) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.stopCh:
			return
		case <-t.C:
			n.Tick()
		}
	}
}

// Stop ends the node: it stops answering, fails pending reads, and closes
// the Apply channel. Its storage keeps what it saved.
func (n *Node) Stop() {
	n.mu.Lock()
	if !n.stopped {
		n.stopped = true
		n.failReads(ErrStopped)
	}
	select {
	case <-n.stopCh:
	default:
		close(n.stopCh)
	}
	n.mu.Unlock()
	// If Apply was never called, close its channel here so a late caller
	// sees it closed; otherwise wait for the pump to close it.
	n.pumpOnce.Do(func() {
		close(n.applyCh)
		close(n.pumpDone)
	})
	<-n.pumpDone
}

func (n *Node) pump() {
	defer close(n.pumpDone)
	defer close(n.applyCh)
	for {
		select {
		case <-n.notify:
		case <-n.stopCh:
			return
		}
		for _, m := range n.Applied() {
			select {
			case n.applyCh <- m:
			case <-n.stopCh:
				return
			}
		}
	}
}

func (n *Node) tick() {
	if n.role == Leader {
		n.elapsed++
		n.hbElapsed++
		if n.elapsed >= n.electionTicks {
			n.elapsed = 0
			if !n.quorumActive() {
				// A leader that has not heard from a quorum for an election
				// timeout steps down: a new leader has probably been elected
				// on the other side of a partition.
				n.becomeFollower(n.term, 0)
				return
			}
		}
		if n.hbElapsed >= n.heartbeatTicks {
			n.hbElapsed = 0
			n.broadcastAppend()
		}
		return
	}
	n.elapsed++
	if n.elapsed >= n.timeout {
		n.preCampaign()
	}
}

func (n *Node) quorumActive() bool {
	count := 1
	for _, p := range n.peers {
		if p != n.id && n.active[p] {
			count++
		}
	}
	clear(n.active)
	return count >= n.quorum()
}

func (n *Node) step(m Message) {
	switch {
	case m.Type == MsgPreVote && m.Term > n.term:
		// A trial election: answering it changes nothing here.
		n.handlePreVote(m)
		return
	case m.Type == MsgPreVoteResp && !m.Reject && m.Term > n.term:
		n.handlePreVoteResp(m)
		return
	case m.Term > n.term:
		leader := 0
		if m.Type == MsgApp || m.Type == MsgSnap {
			leader = m.From
		}
		n.becomeFollower(m.Term, leader)
	case m.Term < n.term:
		// Tell a stale sender the current term so it steps down; a stale
		// answer needs no answer.
		switch m.Type {
		case MsgApp, MsgSnap:
			n.send(Message{Type: MsgAppResp, To: m.From, Reject: true})
		case MsgVote:
			n.send(Message{Type: MsgVoteResp, To: m.From, Reject: true})
		case MsgPreVote:
			n.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
		}
		return
	}
	switch m.Type {
	case MsgVote:
		n.handleVote(m)
	case MsgVoteResp:
		n.handleVoteResp(m)
	case MsgApp:
		n.handleAppend(m)
	case MsgSnap:
		n.handleSnapshot(m)
	case MsgAppResp:
		n.handleAppendResp(m)
	case MsgPreVote:
		// Same term as ours: we are not behind it, so no trial can win.
		n.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
	case MsgPreVoteResp:
		n.handlePreVoteResp(m)
	}
}

// preCampaign asks whether a quorum would vote for this node before it
// raises its term. A node cut off from the cluster (a partitioned
// follower) keeps failing the trial and so keeps its term, and when it
// returns it does not force a working leader to step down.
func (n *Node) preCampaign() {
	if len(n.peers) == 1 {
		n.campaign()
		return
	}
	n.role = PreCandidate
	n.leader = 0
	n.elapsed = 0
	n.resetTimeout()
	n.votes = map[int]bool{n.id: true}
	for _, p := range n.peers {
		if p != n.id {
			n.send(Message{Type: MsgPreVote, To: p, Term: n.term + 1, Index: n.lastIndex(), LogTerm: n.lastTerm()})
		}
	}
}

func (n *Node) handlePreVote(m Message) {
	upToDate := m.LogTerm > n.lastTerm() || (m.LogTerm == n.lastTerm() && m.Index >= n.lastIndex())
	// Refuse while a leader is alive: heard from within an election
	// timeout, or this node is the leader.
	leaderAlive := n.role == Leader || (n.leader != 0 && n.elapsed < n.electionTicks)
	if upToDate && !leaderAlive {
		n.send(Message{Type: MsgPreVoteResp, To: m.From, Term: m.Term})
		return
	}
	n.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
}

func (n *Node) handlePreVoteResp(m Message) {
	if n.role != PreCandidate || m.Term != n.term+1 && !m.Reject {
		return
	}
	n.votes[m.From] = !m.Reject
	granted := 0
	for _, ok := range n.votes {
		if ok {
			granted++
		}
	}
	if granted >= n.quorum() {
		n.campaign()
	}
}

func (n *Node) campaign() {
	n.role = Candidate
	n.term++
	n.vote = n.id
	n.leader = 0
	n.elapsed = 0
	n.resetTimeout()
	n.persist(nil)
	n.votes = map[int]bool{n.id: true}
	if len(n.peers) == 1 {
		n.becomeLeader()
		return
	}
	for _, p := range n.peers {
		if p != n.id {
			n.send(Message{Type: MsgVote, To: p, Index: n.lastIndex(), LogTerm: n.lastTerm()})
		}
	}
}

func (n *Node) handleVote(m Message) {
	// Election restriction (§5.4.1): vote only for a candidate whose log
	// is at least as up to date as ours, so a leader holds every
	// committed entry.
	upToDate := m.LogTerm > n.lastTerm() || (m.LogTerm == n.lastTerm() && m.Index >= n.lastIndex())
	if (n.vote == 0 || n.vote == m.From) && upToDate {
		n.vote = m.From
		// The vote must be durable before the candidate hears of it: a
		// node that forgets its vote in a crash could vote twice in one
		// term and let two leaders be elected.
		n.persist(nil)
		n.elapsed = 0
		n.send(Message{Type: MsgVoteResp, To: m.From})
		return
	}
	n.send(Message{Type: MsgVoteResp, To: m.From, Reject: true})
}

func (n *Node) handleVoteResp(m Message) {
	if n.role != Candidate {
		return
	}
	n.votes[m.From] = !m.Reject
	granted := 0
	for _, ok := range n.votes {
		if ok {
			granted++
		}
	}
	if granted >= n.quorum() {
		n.becomeLeader()
	}
}

func (n *Node) becomeFollower(term uint64, leader int) {
	if term > n.term {
		n.term = term
		n.vote = 0
		n.persist(nil)
	}
	if n.role == Leader {
		n.failReads(ErrNotLeader)
		n.elapsed = 0
		if n.stable < n.lastIndex() {
			// Outside office, the log in memory and the log on disk are
			// the same log: answers to the next leader are made from it.
			n.persist(slices.Clone(n.log[n.stable+1-n.log[0].Index:]))
		}
	}
	// A higher term alone does not restart the election timer (only a
	// leader's message or a granted vote does), or a node whose stale log
	// can never win would keep everyone else from standing.
	n.role = Follower
	n.leader = leader
}

func (n *Node) becomeLeader() {
	n.role = Leader
	n.leader = n.id
	n.elapsed, n.hbElapsed = 0, 0
	n.next = map[int]uint64{}
	n.match = map[int]uint64{}
	n.active = map[int]bool{}
	n.acked = map[int]uint64{}
	n.inflight = map[int]uint64{}
	for _, p := range n.peers {
		n.next[p] = n.lastIndex() + 1
	}
	// A no-op of the new term: the leader may count replicas only for an
	// entry of its own term, so until one commits, the entries it
	// inherited cannot commit either (Figure 8).
	e := Entry{Index: n.lastIndex() + 1, Term: n.term}
	n.log = append(n.log, e)
	n.persist([]Entry{e})
	n.termStart = e.Index
	n.match[n.id] = e.Index
	n.broadcastAppend()
	n.maybeCommit()
}

func (n *Node) broadcastAppend() {
	for _, p := range n.peers {
		if p != n.id {
			n.sendAppend(p)
		}
	}
}

// sendAppend sends p the entries from its next index on, or the snapshot
// if those entries are gone. next moves on as soon as entries are sent
// (pipelining); a follower that missed them rejects the next append and
// the leader backs up.
func (n *Node) sendAppend(p int) {
	next := n.next[p]
	if next <= n.log[0].Index {
		s := n.snap
		n.send(Message{Type: MsgSnap, To: p, Snapshot: &s})
		n.next[p] = s.Index + 1
		return
	}
	prev := next - 1
	prevTerm, _ := n.termAt(prev)
	off := n.log[0].Index
	hi := min(uint64(len(n.log)), next-off+uint64(n.maxBatch))
	// A copy: the message may outlive this slice of the log.
	ents := slices.Clone(n.log[next-off : hi])
	n.send(Message{Type: MsgApp, To: p, Index: prev, LogTerm: prevTerm, Entries: ents,
		Commit: n.commit, Context: n.round})
	if len(ents) > 0 {
		n.next[p] = ents[len(ents)-1].Index + 1
		n.inflight[p] = n.next[p] - 1
	}
}

func (n *Node) handleAppend(m Message) {
	if n.role != Follower {
		n.becomeFollower(m.Term, m.From)
	}
	n.leader = m.From
	n.elapsed = 0
	prev, prevTerm, ents := m.Index, m.LogTerm, m.Entries
	if snapIndex := n.log[0].Index; prev < snapIndex {
		// The entries up to our snapshot are committed, so they are the
		// leader's too: skip them.
		k := 0
		for k < len(ents) && ents[k].Index <= snapIndex {
			k++
		}
		prev, prevTerm, ents = snapIndex, n.log[0].Term, ents[k:]
	}
	t, ok := n.termAt(prev)
	if !ok {
		n.send(Message{Type: MsgAppResp, To: m.From, Reject: true, Index: n.lastIndex() + 1, Context: m.Context})
		return
	}
	if t != prevTerm {
		// Point the leader at the first entry of the conflicting term, so
		// it backs up a term per round trip, not an entry.
		first := prev
		for first-1 > n.log[0].Index {
			if ft, _ := n.termAt(first - 1); ft != t {
				break
			}
			first--
		}
		n.send(Message{Type: MsgAppResp, To: m.From, Reject: true, Index: first, LogTerm: t, Context: m.Context})
		return
	}
	for i, e := range ents {
		if et, ok := n.termAt(e.Index); ok && et == e.Term {
			continue
		}
		// Truncate only at a real conflict: a late, shorter append must
		// not cut entries a newer one already added.
		n.log = append(n.log[:e.Index-n.log[0].Index], ents[i:]...)
		n.persist(ents[i:])
		break
	}
	matched := prev + uint64(len(ents))
	if m.Commit > n.commit {
		n.setCommit(min(m.Commit, matched))
	}
	n.send(Message{Type: MsgAppResp, To: m.From, Index: matched, Context: m.Context})
}

func (n *Node) handleSnapshot(m Message) {
	if n.role != Follower {
		n.becomeFollower(m.Term, m.From)
	}
	n.leader = m.From
	n.elapsed = 0
	s := m.Snapshot
	if s == nil {
		return
	}
	if s.Index <= n.commit {
		n.send(Message{Type: MsgAppResp, To: m.From, Index: n.commit})
		return
	}
	n.snap = Snapshot{Index: s.Index, Term: s.Term, Data: s.Data}
	if t, ok := n.termAt(s.Index); ok && t == s.Term {
		n.compact(s.Index, s.Term)
	} else {
		n.log = []Entry{{Index: s.Index, Term: s.Term}}
	}
	n.commit = s.Index
	// Entries queued below the snapshot are superseded by it.
	n.pending = slices.DeleteFunc(n.pending, func(a ApplyMsg) bool { return a.Index <= s.Index })
	snap := n.snap
	n.pending = append(n.pending, ApplyMsg{Index: s.Index, Term: s.Term, Snapshot: &snap})
	n.queued = s.Index
	n.wake()
	n.saveSnapshot()
	n.send(Message{Type: MsgAppResp, To: m.From, Index: s.Index})
}

func (n *Node) handleAppendResp(m Message) {
	if n.role != Leader {
		return
	}
	p := m.From
	if _, ok := n.next[p]; !ok {
		return
	}
	n.active[p] = true
	if m.Context > n.acked[p] {
		n.acked[p] = m.Context
		n.checkReads()
	}
	if m.Reject {
		next := m.Index
		if m.LogTerm != 0 {
			// If we have entries of the follower's conflicting term, skip
			// to just after our last one of them.
			for i := n.lastIndex(); i > n.log[0].Index; i-- {
				if t, _ := n.termAt(i); t == m.LogTerm {
					next = i + 1
					break
				} else if t < m.LogTerm {
					break
				}
			}
		}
		next = max(next, n.match[p]+1)
		if next < n.next[p] {
			n.next[p] = next
			n.inflight[p] = 0
			n.sendAppend(p)
		}
		return
	}
	if m.Index > n.match[p] {
		n.match[p] = m.Index
		n.maybeCommit()
	}
	if n.next[p] <= n.match[p] {
		n.next[p] = n.match[p] + 1
	}
	if n.next[p] <= n.lastIndex() && n.inflight[p] <= n.match[p] {
		n.sendAppend(p)
	}
}

// maybeCommit advances the commit index to the highest index a quorum
// holds, if that entry is of the current term.
func (n *Node) maybeCommit() {
	matches := make([]uint64, 0, len(n.peers))
	for _, p := range n.peers {
		matches = append(matches, n.match[p])
	}
	slices.Sort(matches)
	slices.Reverse(matches)
	index := matches[n.quorum()-1]
	if index <= n.commit {
		return
	}
	// Figure 8: an entry of an earlier term on a quorum can still be
	// overwritten by a leader that never saw it, so only the leader's own
	// entries commit by counting; earlier ones commit beneath them.
	if t, _ := n.termAt(index); t != n.term {
		return
	}
	n.setCommit(index)
}

func (n *Node) setCommit(index uint64) {
	if index <= n.commit {
		return
	}
	n.commit = index
	for i := n.queued + 1; i <= index; i++ {
		e := n.log[i-n.log[0].Index]
		n.pending = append(n.pending, ApplyMsg{Index: e.Index, Term: e.Term, Command: e.Data})
	}
	n.queued = index
	n.wake()
}

func (n *Node) checkReads() {
	done := 0
	for _, r := range n.reads {
		acks := 1
		for _, p := range n.peers {
			if p != n.id && n.acked[p] >= r.round {
				acks++
			}
		}
		if acks < n.quorum() {
			break // later reads have later rounds
		}
		r.done <- nil
		done++
	}
	n.reads = n.reads[done:]
}

func (n *Node) failReads(err error) {
	for _, r := range n.reads {
		r.done <- err
	}
	n.reads = nil
}

// compact drops the log through index, which a snapshot now covers.
func (n *Node) compact(index, term uint64) {
	rest := n.log[index-n.log[0].Index+1:]
	log := make([]Entry, 0, 1+len(rest))
	log = append(log, Entry{Index: index, Term: term})
	n.log = append(log, rest...)
}

// persist saves the HardState and entries before anything is sent that
// depends on them. Entries here are always the tail of the log.
func (n *Node) persist(entries []Entry) {
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	if err := n.store.Save(HardState{Term: n.term, Vote: n.vote}, entries); err != nil {
		n.fail(fmt.Errorf("raft: save: %w", err))
		return
	}
	if len(entries) > 0 {
		n.stable = entries[len(entries)-1].Index
	}
}

func (n *Node) saveSnapshot() {
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	err := n.store.SaveSnapshot(HardState{Term: n.term, Vote: n.vote}, n.snap, slices.Clone(n.log[1:]))
	if err != nil {
		n.fail(fmt.Errorf("raft: save snapshot: %w", err))
		return
	}
	n.stable = n.lastIndex()
}

// fail stops a node whose storage failed: it can no longer keep the
// promises its answers make, so it must not answer at all.
func (n *Node) fail(err error) {
	if n.err == nil {
		n.err = err
	}
	n.stopped = true
	n.outbox = nil
	n.failReads(ErrStopped)
}

func (n *Node) send(m Message) {
	if n.stopped {
		return
	}
	m.From = n.id
	if m.Term == 0 {
		m.Term = n.term
	}
	n.outbox = append(n.outbox, m)
}

func (n *Node) takeOutbox() []Message {
	out := n.outbox
	n.outbox = nil
	return out
}

func (n *Node) flush(out []Message) {
	if len(out) > 0 {
		n.trans.Send(out)
	}
}

func (n *Node) wake() {
	select {
	case n.notify <- struct{}{}:
	default:
	}
}

func (n *Node) resetTimeout() {
	n.timeout = n.electionTicks + n.rand.IntN(n.electionTicks)
}

func (n *Node) quorum() int { return len(n.peers)/2 + 1 }

func (n *Node) lastIndex() uint64 { return n.log[len(n.log)-1].Index }

func (n *Node) lastTerm() uint64 { return n.log[len(n.log)-1].Term }

// termAt is the term of the entry at index, if the log (or the snapshot's
// last entry) still has it.
func (n *Node) termAt(index uint64) (uint64, bool) {
	off := n.log[0].Index
	if index < off || index > n.lastIndex() {
		return 0, false
	}
	return n.log[index-off].Term, true
}
