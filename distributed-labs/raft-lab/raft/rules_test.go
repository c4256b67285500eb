package raft

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type capture struct{ msgs []Message }

func (c *capture) Send(msgs []Message) { c.msgs = append(c.msgs, msgs...) }

func (c *capture) take() []Message {
	out := c.msgs
	c.msgs = nil
	return out
}

// TestFigure8CommitRule scripts the paper's Figure 8: node 1 comes back
// as leader of term 3 holding an entry of term 2 that followers also hold.
// A quorum holding that entry must not commit it; a quorum holding the new
// leader's own entry above it commits both.
func TestFigure8CommitRule(t *testing.T) {
	st := NewMemoryStorage()
	require.NoError(t, st.Save(HardState{Term: 2}, []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2, Data: []byte("t2")}}))
	tr := &capture{}
	n, err := New(Config{ID: 1, Peers: []int{1, 2, 3, 4, 5}, Storage: st, Transport: tr})
	require.NoError(t, err)
	defer n.Stop()
	for range 20 {
		n.Tick()
	}
	require.Equal(t, PreCandidate, n.Status().Role)
	n.Step(Message{Type: MsgPreVoteResp, From: 2, To: 1, Term: 3})
	n.Step(Message{Type: MsgPreVoteResp, From: 3, To: 1, Term: 3})
	term, _ := n.State()
	require.Equal(t, uint64(3), term, "node 1 campaigned in term 3")
	tr.take()
	n.Step(Message{Type: MsgVoteResp, From: 2, To: 1, Term: 3})
	n.Step(Message{Type: MsgVoteResp, From: 3, To: 1, Term: 3})
	_, leader := n.State()
	require.True(t, leader)
	require.Equal(t, uint64(3), n.Status().LastIndex, "the leader appends a no-op at 3")

	// Nodes 2 and 3 hold the term-2 entry: a quorum of 3 with node 1.
	n.Step(Message{Type: MsgAppResp, From: 2, To: 1, Term: 3, Index: 2})
	n.Step(Message{Type: MsgAppResp, From: 3, To: 1, Term: 3, Index: 2})
	assert.Zero(t, n.Status().Commit, "an entry of an earlier term committed by counting replicas")

	// The no-op of term 3 reaches a quorum: it commits, and index 2 with it.
	n.Step(Message{Type: MsgAppResp, From: 2, To: 1, Term: 3, Index: 3})
	assert.Zero(t, n.Status().Commit, "committed with 2 of 5")
	n.Step(Message{Type: MsgAppResp, From: 3, To: 1, Term: 3, Index: 3})
	assert.Equal(t, uint64(3), n.Status().Commit)
	applied := n.Applied()
	require.Len(t, applied, 3)
	assert.Equal(t, []byte("t2"), applied[1].Command)
}

// TestVoteOncePerTerm checks that a node grants one vote per term, and
// that a restart does not let it vote again.
func TestVoteOncePerTerm(t *testing.T) {
	st := NewMemoryStorage()
	tr := &capture{}
	n, err := New(Config{ID: 1, Peers: []int{1, 2, 3}, Storage: st, Transport: tr})
	require.NoError(t, err)
	n.Step(Message{Type: MsgVote, From: 2, To: 1, Term: 5})
	n.Stop()
	n, err = New(Config{ID: 1, Peers: []int{1, 2, 3}, Storage: st, Transport: tr})
	require.NoError(t, err)
	defer n.Stop()
	n.Step(Message{Type: MsgVote, From: 3, To: 1, Term: 5})
	n.Step(Message{Type: MsgVote, From: 2, To: 1, Term: 5})
	msgs := tr.take()
	require.Len(t, msgs, 3)
	assert.Equal(t, Message{Type: MsgVoteResp, From: 1, To: 2, Term: 5}, msgs[0])
	assert.Equal(t, Message{Type: MsgVoteResp, From: 1, To: 3, Term: 5, Reject: true}, msgs[1], "voted twice in term 5")
	assert.False(t, msgs[2].Reject, "a repeated request from the same candidate is granted again")
}

// TestVoteRequiresAnUpToDateLog is the election restriction.
func TestVoteRequiresAnUpToDateLog(t *testing.T) {
	tests := []struct {
		name             string
		lastTerm, lastIx uint64
		granted          bool
	}{
		{"older last term", 1, 9, false},
		{"same term, shorter log", 2, 1, false},
		{"same term, same length", 2, 2, true},
		{"newer last term, shorter log", 3, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewMemoryStorage()
			require.NoError(t, st.Save(HardState{Term: 2}, []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2}}))
			tr := &capture{}
			n, err := New(Config{ID: 1, Peers: []int{1, 2, 3}, Storage: st, Transport: tr})
			require.NoError(t, err)
			defer n.Stop()
			n.Step(Message{Type: MsgVote, From: 2, To: 1, Term: 4, LogTerm: tt.lastTerm, Index: tt.lastIx})
			msgs := tr.take()
			require.Len(t, msgs, 1)
			assert.Equal(t, tt.granted, !msgs[0].Reject)
		})
	}
}

// TestReadIndexNeedsAQuorum: a leader cut off with a minority cannot
// confirm a read, while the majority's new leader can, at an index that
// covers every write committed before.
func TestReadIndexNeedsAQuorum(t *testing.T) {
	c := newCluster(t, 5, true)
	c.one(c.cmd(), 5, true)
	old := c.checkOneLeader()

	// read starts a read on n and drives the cluster until it is answered.
	read := func(n *Node, ticks int) (uint64, error) {
		r, err := n.startRead()
		if err != nil {
			return 0, err
		}
		for range ticks {
			select {
			case err := <-r.done:
				return r.index, err
			default:
			}
			c.step()
		}
		return 0, context.DeadlineExceeded
	}

	_, err := read(c.nodes[old], 5)
	require.NoError(t, err, "a leader with its quorum confirms a read")

	// Cut the leader off with one follower and start a read there.
	buddy := old%5 + 1
	for i := 1; i <= 5; i++ {
		if i != old && i != buddy {
			c.disconnect(i)
		}
	}
	stale, err := c.nodes[old].startRead()
	require.NoError(t, err)
	// The majority side elects a leader and commits a write meanwhile.
	for i := 1; i <= 5; i++ {
		if i != old && i != buddy {
			c.connect(i)
		}
	}
	c.disconnect(old)
	c.disconnect(buddy)
	index := c.one(c.cmd(), 3, true)
	// Within two election timeouts the cut-off leader notices it has no
	// quorum, steps down and fails the read; until then it must wait.
	var staleErr error
	for range 2 * electionTicks {
		select {
		case staleErr = <-stale.done:
		default:
			c.step()
			continue
		}
		break
	}
	require.ErrorIs(t, staleErr, ErrNotLeader, "the cut-off leader's read was confirmed, or never ended")

	leader := c.checkOneLeader()
	require.NotEqual(t, old, leader)
	got, err := read(c.nodes[leader], 10*electionTicks)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, got, index, "the read index misses a committed write")

	// The blocking form: a follower refuses, a cancelled read ends.
	_, err = c.nodes[buddy].ReadIndex(context.Background())
	require.ErrorIs(t, err, ErrNotLeader)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.nodes[leader].ReadIndex(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// TestPreVoteKeepsAPartitionedNodeQuiet: a follower cut off for many
// election timeouts fails its trial elections, keeps its term, and on its
// return does not depose the working leader.
func TestPreVoteKeepsAPartitionedNodeQuiet(t *testing.T) {
	c := newCluster(t, 3, true)
	leader := c.checkOneLeader()
	term := c.checkTerms()
	cut := leader%3 + 1
	c.disconnect(cut)
	c.run(20 * electionTicks)
	st := c.nodes[cut].Status()
	assert.Equal(t, term, st.Term, "the cut-off node raised its term")
	assert.Equal(t, PreCandidate, st.Role)

	c.connect(cut)
	c.one(c.cmd(), 3, true)
	got, isLeader := c.nodes[leader].State()
	assert.True(t, isLeader, "the rejoining node deposed the leader")
	assert.Equal(t, term, got)
}

// TestSameSeedSameRun replays an unreliable run with churn and checks
// that every message is delivered at the same tick in the same order.
func TestSameSeedSameRun(t *testing.T) {
	trace := func() uint64 {
		c := newCluster(t, 5, false)
		c.net.longReorder = true
		c.snapEvery = 7
		for range 300 {
			for i := 1; i <= 5; i++ {
				if c.nodes[i] != nil {
					c.nodes[i].Propose(c.cmd())
				}
			}
			if c.rand.IntN(20) == 0 {
				c.restart(c.rand.IntN(5) + 1)
			}
			c.step()
		}
		return c.net.trace
	}
	t.Setenv("SEED", "12345")
	assert.Equal(t, trace(), trace())
}

// TestFollowerCommitsOnlyWhatMatches: a follower with a stale tail learns
// a commit index beyond what the append proved matches; it must commit
// only through the matching prefix, not the stale entries after it.
func TestFollowerCommitsOnlyWhatMatches(t *testing.T) {
	st := NewMemoryStorage()
	var log []Entry
	for i := uint64(1); i <= 8; i++ {
		term := uint64(1)
		if i > 5 {
			term = 2 // written by a leader of term 2 that never committed them
		}
		log = append(log, Entry{Index: i, Term: term, Data: []byte{byte(i)}})
	}
	require.NoError(t, st.Save(HardState{Term: 2}, log))
	tr := &capture{}
	n, err := New(Config{ID: 2, Peers: []int{1, 2, 3}, Storage: st, Transport: tr})
	require.NoError(t, err)
	defer n.Stop()

	// The leader of term 3 has committed 8 entries of its own log, which
	// agrees with ours only through 5. Its heartbeat proves that much.
	n.Step(Message{Type: MsgApp, From: 1, To: 2, Term: 3, Index: 5, LogTerm: 1, Commit: 8})
	assert.Equal(t, uint64(5), n.Status().Commit, "committed entries the append did not match")
	msgs := tr.take()
	require.Len(t, msgs, 1)
	assert.Equal(t, uint64(5), msgs[0].Index)
	assert.False(t, msgs[0].Reject)
	assert.Len(t, n.Applied(), 5)
}
