package raft

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests drive whole clusters from the test goroutine: one tick of every
// node, then every message due, over a network whose drops, delays and
// reordering come from one seed. SEED=n replays a run exactly.

const (
	electionTicks = 10
	// maxElection is how long an election may take: a few timeouts, since
	// split votes happen.
	maxElection = 10 * 2 * electionTicks
)

func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "SEED=%q: expected an unsigned integer", s)
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d; replay with: SEED=%d go test -run '^%s$' ./raft/", seed, seed, t.Name())
		}
	})
	return seed
}

type inflight struct {
	at  int
	seq uint64
	m   Message
}

// simNet is an in-process network: 6.5840's connect/disconnect per node,
// optional unreliability (drops, short delays, long reordering), and a
// check on every message that the sender's storage already holds what the
// message promises.
type simNet struct {
	// mu guards the network against a node sending from another goroutine
	// (a ReadIndex call) while the test goroutine drives the cluster.
	mu          sync.Mutex
	c           *cluster
	rand        *rand.Rand
	queue       []inflight
	seq         uint64
	reliable    bool
	longReorder bool
	sent        map[MsgType]int
	entryBytes  int
	trace       uint64 // a hash of every delivery, to compare runs
}

type simTransport struct {
	net *simNet
	id  int
}

func (tr simTransport) Send(msgs []Message) {
	for _, m := range msgs {
		tr.net.send(tr.id, m)
	}
}

func (n *simNet) send(from int, m Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.c.checkPromise(from, m)
	n.sent[m.Type]++
	for _, e := range m.Entries {
		n.entryBytes += len(e.Data)
	}
	if !n.c.connected[from] || !n.c.connected[m.To] {
		return
	}
	at := n.c.now
	if !n.reliable {
		if n.rand.IntN(10) == 0 {
			return
		}
		at += n.rand.IntN(3)
		if n.longReorder && n.rand.IntN(3) == 0 {
			at += 10 + n.rand.IntN(60)
		}
	}
	n.seq++
	n.queue = append(n.queue, inflight{at: at, seq: n.seq, m: m})
}

// deliver hands out every message due by now, including those sent while
// delivering (a reliable network delivers within the tick).
func (n *simNet) deliver() {
	for range 100000 {
		n.mu.Lock()
		i := slices.IndexFunc(n.queue, func(f inflight) bool { return f.at <= n.c.now })
		if i < 0 {
			n.mu.Unlock()
			return
		}
		// The earliest sent of the due messages, for a stable order.
		for j := i + 1; j < len(n.queue); j++ {
			if n.queue[j].at <= n.c.now && n.queue[j].seq < n.queue[i].seq {
				i = j
			}
		}
		f := n.queue[i]
		n.queue = slices.Delete(n.queue, i, i+1)
		m := f.m
		if !n.c.connected[m.From] || !n.c.connected[m.To] || n.c.nodes[m.To] == nil {
			n.mu.Unlock()
			continue
		}
		h := fnv.New64a()
		_, _ = fmt.Fprintf(h, "%d %d %s", n.trace, n.c.now, m)
		n.trace = h.Sum64()
		n.mu.Unlock()
		n.c.nodes[m.To].Step(m)
	}
	n.c.t.Fatal("the network never went quiet: a message storm")
}

type server struct {
	applied uint64
	chain   uint64
}

type cluster struct {
	t         *testing.T
	seed      uint64
	rand      *rand.Rand
	n         int
	now       int
	net       *simNet
	nodes     []*Node // index 1..n; nil when crashed
	stores    []*MemoryStorage
	connected []bool
	servers   []server
	restarts  []int
	snapEvery uint64
	// committed and chainAt are what some server applied at each index;
	// every other server must apply the same.
	committed map[uint64][]byte
	chainAt   map[uint64]uint64
	nextCmd   int
}

func newCluster(t *testing.T, n int, reliable bool) *cluster {
	t.Helper()
	seed := testSeed(t)
	c := &cluster{
		t: t, seed: seed, n: n,
		rand:      rand.New(rand.NewPCG(seed, 1)), //nolint:gosec // test schedule
		nodes:     make([]*Node, n+1),
		stores:    make([]*MemoryStorage, n+1),
		connected: make([]bool, n+1),
		servers:   make([]server, n+1),
		restarts:  make([]int, n+1),
		committed: map[uint64][]byte{},
		chainAt:   map[uint64]uint64{},
	}
	c.net = &simNet{c: c, rand: rand.New(rand.NewPCG(seed, 2)), reliable: reliable, sent: map[MsgType]int{}} //nolint:gosec // test network
	for i := 1; i <= n; i++ {
		c.stores[i] = NewMemoryStorage()
		c.start(i)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			if nd != nil {
				nd.Stop()
			}
		}
	})
	return c
}

func (c *cluster) peers() []int {
	ps := make([]int, c.n)
	for i := range ps {
		ps[i] = i + 1
	}
	return ps
}

func (c *cluster) start(i int) {
	c.t.Helper()
	c.restarts[i]++
	nd, err := New(Config{
		ID: i, Peers: c.peers(), Storage: c.stores[i], Transport: simTransport{net: c.net, id: i},
		ElectionTicks: electionTicks, HeartbeatTicks: 1,
		Rand: rand.New(rand.NewPCG(c.seed, uint64(i*1000+c.restarts[i]))), //nolint:gosec // election timeouts
	})
	require.NoError(c.t, err)
	c.nodes[i] = nd
	c.servers[i] = server{}
	c.setConnected(i, true)
}

// crash stops node i; its storage keeps what it saved, as a disk would.
func (c *cluster) crash(i int) {
	if c.nodes[i] == nil {
		return
	}
	c.nodes[i].Stop()
	c.nodes[i] = nil
	c.setConnected(i, false)
}

func (c *cluster) restart(i int) {
	c.crash(i)
	c.start(i)
}

func (c *cluster) disconnect(i int) { c.setConnected(i, false) }
func (c *cluster) connect(i int)    { c.setConnected(i, c.nodes[i] != nil) }

func (c *cluster) setConnected(i int, up bool) {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.connected[i] = up
}

// step is one tick of the whole cluster.
func (c *cluster) step() {
	c.net.mu.Lock()
	c.now++
	c.net.mu.Unlock()
	for i := 1; i <= c.n; i++ {
		if c.nodes[i] != nil {
			c.nodes[i].Tick()
		}
	}
	c.net.deliver()
	c.applyAll()
}

func (c *cluster) run(ticks int) {
	for range ticks {
		c.step()
	}
}

// applyAll plays each server's state machine: a hash chain over every
// applied (index, command), whose snapshot is (index, chain).
func (c *cluster) applyAll() {
	for i := 1; i <= c.n; i++ {
		nd := c.nodes[i]
		if nd == nil {
			continue
		}
		s := &c.servers[i]
		for _, a := range nd.Applied() {
			if a.Snapshot != nil {
				idx, chain := decodeState(c.t, a.Snapshot.Data)
				require.Equal(c.t, a.Index, idx, "node %d: snapshot message index", i)
				require.Equal(c.t, a.Snapshot.Index, idx, "node %d: snapshot index", i)
				if want, ok := c.chainAt[idx]; ok {
					require.Equal(c.t, want, chain, "node %d: snapshot at %d holds another state", i, idx)
				}
				c.chainAt[idx] = chain
				s.applied, s.chain = idx, chain
				continue
			}
			require.Equal(c.t, s.applied+1, a.Index, "node %d applied out of order", i)
			if prev, ok := c.committed[a.Index]; ok {
				require.Equal(c.t, prev, a.Command, "node %d applied another command at %d", i, a.Index)
			}
			c.committed[a.Index] = a.Command
			h := fnv.New64a()
			_, _ = fmt.Fprintf(h, "%d %d %x", s.chain, a.Index, a.Command)
			s.applied, s.chain = a.Index, h.Sum64()
			if want, ok := c.chainAt[a.Index]; ok {
				require.Equal(c.t, want, s.chain, "node %d: state at %d", i, a.Index)
			}
			c.chainAt[a.Index] = s.chain
			if c.snapEvery > 0 && a.Index%c.snapEvery == 0 {
				nd.Snapshot(a.Index, encodeState(a.Index, s.chain))
			}
		}
	}
}

func encodeState(index, chain uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, index)
	b = binary.BigEndian.AppendUint64(b, chain)
	// Padding, so a snapshot is not cheaper to send than a few entries.
	return append(b, make([]byte, 256)...)
}

func decodeState(t *testing.T, b []byte) (index, chain uint64) {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 16, "snapshot data")
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
}

// checkPromise fails the test if a node sends an answer its storage does
// not yet back: a vote not saved, or entries acknowledged before they are
// durable.
func (c *cluster) checkPromise(from int, m Message) {
	st := c.stores[from]
	hs, snap, entries, _ := st.Load()
	// A trial election names a term nobody has entered yet.
	if m.Term > hs.Term && m.Type != MsgPreVote && m.Type != MsgPreVoteResp {
		c.t.Errorf("node %d sent %s in term %d with term %d saved", from, m, m.Term, hs.Term)
	}
	switch {
	case m.Type == MsgVoteResp && !m.Reject:
		if hs.Vote != m.To || hs.Term != m.Term {
			c.t.Errorf("node %d granted its vote to %d in term %d with (term %d, vote %d) saved", from, m.To, m.Term, hs.Term, hs.Vote)
		}
	case m.Type == MsgAppResp && !m.Reject:
		last := snap.Index
		if len(entries) > 0 {
			last = max(last, entries[len(entries)-1].Index)
		}
		if m.Index > last {
			c.t.Errorf("node %d acknowledged entries through %d with only %d saved", from, m.Index, last)
		}
	}
}

func (c *cluster) cmd() []byte {
	c.nextCmd++
	return fmt.Appendf(nil, "cmd-%d", c.nextCmd)
}

// leaders returns the connected nodes that believe they lead, by term.
func (c *cluster) leaders() map[uint64][]int {
	out := map[uint64][]int{}
	for i := 1; i <= c.n; i++ {
		if c.nodes[i] != nil && c.connected[i] {
			if term, ok := c.nodes[i].State(); ok {
				out[term] = append(out[term], i)
			}
		}
	}
	return out
}

// checkOneLeader waits for exactly one leader among the connected nodes in
// the newest term, and fails on two leaders in one term.
func (c *cluster) checkOneLeader() int {
	c.t.Helper()
	for range 10 {
		c.run(2 * electionTicks)
		ls := c.leaders()
		var newest uint64
		for term, ids := range ls {
			require.Len(c.t, ids, 1, "term %d has leaders %v", term, ids)
			newest = max(newest, term)
		}
		if newest > 0 {
			return ls[newest][0]
		}
	}
	c.dump()
	c.t.Fatal("expected one leader, got none")
	return 0
}

func (c *cluster) dump() {
	for i := 1; i <= c.n; i++ {
		if c.nodes[i] == nil {
			c.t.Logf("tick %d node %d: down", c.now, i)
			continue
		}
		c.t.Logf("tick %d node %d: connected=%v %+v applied=%d", c.now, i, c.connected[i], c.nodes[i].Status(), c.servers[i].applied)
	}
}

func (c *cluster) checkNoLeader() {
	c.t.Helper()
	c.run(maxElection)
	require.Empty(c.t, c.leaders(), "expected no leader among the connected nodes")
}

func (c *cluster) checkTerms() uint64 {
	c.t.Helper()
	var term uint64
	for i := 1; i <= c.n; i++ {
		if c.nodes[i] != nil && c.connected[i] {
			t, _ := c.nodes[i].State()
			if term == 0 {
				term = t
			}
			require.Equal(c.t, term, t, "servers disagree on the term")
		}
	}
	return term
}

// nCommitted is how many servers applied index, and what.
func (c *cluster) nCommitted(index uint64) (int, []byte) {
	count := 0
	for i := 1; i <= c.n; i++ {
		if c.nodes[i] != nil && c.servers[i].applied >= index {
			count++
		}
	}
	return count, c.committed[index]
}

// one gets cmd committed on at least expected servers, as a client would:
// find a leader, propose, wait; with retry it tries again after a failed
// round (the leader may have lost office).
func (c *cluster) one(cmd []byte, expected int, retry bool) uint64 {
	c.t.Helper()
	deadline := c.now + 20*maxElection
	for c.now < deadline {
		var index uint64
		leader := 0
		for i := 1; i <= c.n && leader == 0; i++ {
			if c.nodes[i] != nil && c.connected[i] {
				if idx, _, ok := c.nodes[i].Propose(cmd); ok {
					index, leader = idx, i
				}
			}
		}
		if leader == 0 {
			c.step()
			continue
		}
		for range 2 * maxElection {
			c.step()
			if n, got := c.nCommitted(index); n > 0 && string(got) != string(cmd) {
				break // another entry won index
			} else if n >= expected {
				return index
			}
		}
		if !retry {
			c.t.Fatalf("one(%q) was not committed on %d servers", cmd, expected)
		}
	}
	c.dump()
	c.t.Fatalf("one(%q) failed to reach agreement", cmd)
	return 0
}

// wait runs until n servers applied index, or fails.
func (c *cluster) wait(index uint64, n int) []byte {
	c.t.Helper()
	for range 2 * maxElection {
		if got, cmd := c.nCommitted(index); got >= n {
			return cmd
		}
		c.step()
	}
	got, _ := c.nCommitted(index)
	c.t.Fatalf("only %d of %d servers applied %d", got, n, index)
	return nil
}
