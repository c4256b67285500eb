package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Election (6.5840 3A).

func TestInitialElection(t *testing.T) {
	c := newCluster(t, 3, true)
	c.checkOneLeader()
	term1 := c.checkTerms()
	require.GreaterOrEqual(t, term1, uint64(1))
	// With no failures, the leader keeps its office.
	c.run(5 * electionTicks)
	assert.Equal(t, term1, c.checkTerms(), "the term changed with no failures")
	c.checkOneLeader()
}

func TestReElection(t *testing.T) {
	c := newCluster(t, 3, true)
	leader1 := c.checkOneLeader()

	c.disconnect(leader1)
	c.checkOneLeader()

	// The old leader rejoins; it must not disturb the new one's office.
	c.connect(leader1)
	leader2 := c.checkOneLeader()

	// Without a quorum there is no leader.
	c.disconnect(leader2)
	c.disconnect(leader2%3 + 1)
	c.checkNoLeader()

	c.connect(leader2%3 + 1)
	c.checkOneLeader()
	c.connect(leader2)
	c.checkOneLeader()
}

func TestManyElections(t *testing.T) {
	const n = 7
	c := newCluster(t, n, true)
	c.checkOneLeader()
	for range 10 {
		cut := c.rand.Perm(n)[:3]
		for _, i := range cut {
			c.disconnect(i + 1)
		}
		c.checkOneLeader()
		for _, i := range cut {
			c.connect(i + 1)
		}
	}
	c.checkOneLeader()
}

// Agreement (6.5840 3B).

func TestBasicAgree(t *testing.T) {
	c := newCluster(t, 3, true)
	var last uint64
	for range 3 {
		cmd := c.cmd()
		index := c.one(cmd, 3, false)
		assert.Greater(t, index, last, "indexes must grow")
		last = index
	}
}

// TestAppendsSendEachEntryOnce checks that replication does not resend
// entries a follower already has: each command goes out about once per
// follower.
func TestAppendsSendEachEntryOnce(t *testing.T) {
	c := newCluster(t, 3, true)
	c.one(c.cmd(), 3, false)
	before := c.net.entryBytes
	total := 0
	for i := range 10 {
		cmd := make([]byte, 5000)
		cmd[0] = byte(i)
		total += len(cmd)
		c.one(cmd, 3, false)
	}
	sent := c.net.entryBytes - before
	assert.LessOrEqual(t, sent, total*2+total/2, "sent %d entry bytes for %d bytes of commands to 2 followers", sent, total)
}

func TestFailAgree(t *testing.T) {
	c := newCluster(t, 3, true)
	c.one(c.cmd(), 3, false)

	leader := c.checkOneLeader()
	c.disconnect(leader%3 + 1)

	// The leader and the remaining follower still make progress.
	c.one(c.cmd(), 2, false)
	c.one(c.cmd(), 2, false)
	c.run(electionTicks)
	c.one(c.cmd(), 2, false)

	c.connect(leader%3 + 1)
	c.one(c.cmd(), 3, true)
	c.run(electionTicks)
	c.one(c.cmd(), 3, true)
}

func TestFailNoAgree(t *testing.T) {
	c := newCluster(t, 5, true)
	c.one(c.cmd(), 5, false)

	leader := c.checkOneLeader()
	for k := 1; k <= 3; k++ {
		c.disconnect((leader+k-1)%5 + 1)
	}
	index, _, ok := c.nodes[leader].Propose(c.cmd())
	require.True(t, ok, "leader rejected the proposal")
	c.run(2 * maxElection)
	n, _ := c.nCommitted(index)
	require.Zero(t, n, "%d servers committed without a majority", n)

	for k := 1; k <= 3; k++ {
		c.connect((leader+k-1)%5 + 1)
	}
	c.checkOneLeader()
	c.one(c.cmd(), 5, true)
}

func TestConcurrentStarts(t *testing.T) {
	c := newCluster(t, 3, true)
	leader := c.checkOneLeader()
	type result struct {
		index uint64
		cmd   []byte
		ok    bool
	}
	results := make(chan result, 5)
	for i := range 5 {
		go func() {
			cmd := []byte{'c', byte(i)}
			index, _, ok := c.nodes[leader].Propose(cmd)
			results <- result{index, cmd, ok}
		}()
	}
	indexes := map[uint64]bool{}
	var rs []result
	for range 5 {
		r := <-results
		require.True(t, r.ok, "the leader lost office with no failures")
		require.False(t, indexes[r.index], "two proposals got index %d", r.index)
		indexes[r.index] = true
		rs = append(rs, r)
	}
	for _, r := range rs {
		assert.Equal(t, r.cmd, c.wait(r.index, 3))
	}
}

func TestRejoin(t *testing.T) {
	c := newCluster(t, 3, true)
	c.one(c.cmd(), 3, true)

	leader1 := c.checkOneLeader()
	c.disconnect(leader1)
	// The cut-off leader appends entries that can never commit.
	for range 3 {
		c.nodes[leader1].Propose(c.cmd())
	}

	c.one(c.cmd(), 2, true)
	leader2 := c.checkOneLeader()
	c.disconnect(leader2)

	// The old leader returns; its uncommitted tail must be replaced.
	c.connect(leader1)
	c.one(c.cmd(), 2, true)

	c.connect(leader2)
	c.one(c.cmd(), 3, true)
}

// TestBackup makes followers with long divergent logs, so the leader must
// back up over many entries quickly (the conflict-term hint).
func TestBackup(t *testing.T) {
	const n = 5
	c := newCluster(t, n, true)
	c.one(c.cmd(), n, true)

	// The leader and one follower are cut off and take 50 proposals that
	// cannot commit.
	leader1 := c.checkOneLeader()
	other := func(base, k int) int { return (base+k-1)%n + 1 }
	c.disconnect(other(leader1, 2))
	c.disconnect(other(leader1, 3))
	c.disconnect(other(leader1, 4))
	for range 50 {
		c.nodes[leader1].Propose(c.cmd())
	}
	c.run(electionTicks)
	c.disconnect(leader1)
	c.disconnect(other(leader1, 1))

	// The other three elect a leader and commit 50.
	c.connect(other(leader1, 2))
	c.connect(other(leader1, 3))
	c.connect(other(leader1, 4))
	for range 50 {
		c.one(c.cmd(), 3, true)
	}

	// Now that leader, cut off with one follower, takes 50 more that
	// cannot commit.
	leader2 := c.checkOneLeader()
	otherOf2 := other(leader1, 2)
	if leader2 == otherOf2 {
		otherOf2 = other(leader1, 3)
	}
	c.disconnect(otherOf2)
	for range 50 {
		c.nodes[leader2].Propose(c.cmd())
	}
	c.run(electionTicks)

	// The first partition's pair returns beside the third one.
	for i := 1; i <= n; i++ {
		c.disconnect(i)
	}
	c.connect(leader1)
	c.connect(other(leader1, 1))
	c.connect(otherOf2)
	for range 50 {
		c.one(c.cmd(), 3, true)
	}

	for i := 1; i <= n; i++ {
		c.connect(i)
	}
	c.one(c.cmd(), n, true)
}

// Persistence (6.5840 3C).

func TestPersist1(t *testing.T) {
	c := newCluster(t, 3, true)
	c.one(c.cmd(), 3, true)
	for i := 1; i <= 3; i++ {
		c.restart(i)
	}
	c.one(c.cmd(), 3, true)

	leader1 := c.checkOneLeader()
	c.restart(leader1)
	c.one(c.cmd(), 3, true)

	leader2 := c.checkOneLeader()
	c.crash(leader2)
	c.one(c.cmd(), 2, true)
	c.start(leader2)
	index := c.one(c.cmd(), 3, true)
	c.wait(index, 3)
}

func TestPersist2(t *testing.T) {
	const n = 5
	c := newCluster(t, n, true)
	for iter := range 5 {
		c.one(c.cmd(), n, true)
		leader1 := c.checkOneLeader()
		c.crash(leader1%n + 1)
		c.crash((leader1+1)%n + 1)
		c.one(c.cmd(), n-2, true)

		c.crash(leader1)
		c.crash((leader1+2)%n + 1)
		c.crash((leader1+3)%n + 1)
		c.start(leader1%n + 1)
		c.start((leader1+1)%n + 1)
		c.start((leader1+2)%n + 1)
		c.run(electionTicks)
		c.start((leader1+3)%n + 1)
		c.one(c.cmd(), n-1, true)
		c.start(leader1)
		_ = iter
	}
	c.one(c.cmd(), n, true)
}

func TestPersist3(t *testing.T) {
	c := newCluster(t, 3, true)
	c.one(c.cmd(), 3, true)
	leader := c.checkOneLeader()
	c.disconnect(leader%3 + 1)
	c.one(c.cmd(), 2, true)

	c.crash(leader)
	c.crash((leader+1)%3 + 1)
	c.connect(leader%3 + 1)
	c.start((leader+1)%3 + 1)
	c.one(c.cmd(), 2, true)

	c.start(leader)
	c.one(c.cmd(), 3, true)
}

// TestFigure8 crashes leaders at random moments, so some leaders leave
// entries on a majority that a later leader must not count as committed
// unless it commits an entry of its own term above them.
func TestFigure8(t *testing.T) {
	testFigure8(t, true, 1000)
}

func TestFigure8Unreliable(t *testing.T) {
	testFigure8(t, false, 1000)
}

func testFigure8(t *testing.T, reliable bool, iters int) {
	const n = 5
	c := newCluster(t, n, reliable)
	c.net.longReorder = !reliable
	c.one(c.cmd(), 1, true)
	up := n
	for iter := range iters {
		if !reliable && iter == 200 {
			c.net.longReorder = true
		}
		leader := 0
		for i := 1; i <= n; i++ {
			if c.nodes[i] != nil {
				if _, _, ok := c.nodes[i].Propose(c.cmd()); ok {
					leader = i
				}
			}
		}
		if c.rand.IntN(1000) < 100 {
			c.run(c.rand.IntN(electionTicks * 5))
		} else {
			c.run(c.rand.IntN(2))
		}
		if leader != 0 && (reliable || c.rand.IntN(1000) < electionTicks*50) {
			if reliable {
				c.crash(leader)
			} else {
				c.disconnect(leader)
			}
			up--
		}
		if up < 3 {
			s := c.rand.IntN(n) + 1
			if reliable && c.nodes[s] == nil {
				c.start(s)
				up++
			} else if !reliable && !c.connected[s] {
				c.connect(s)
				up++
			}
		}
	}
	for i := 1; i <= n; i++ {
		if c.nodes[i] == nil {
			c.start(i)
		}
		c.connect(i)
	}
	c.net.longReorder = false
	c.one(c.cmd(), n, true)
}

func TestUnreliableAgree(t *testing.T) {
	const n = 5
	c := newCluster(t, n, false)
	for range 50 {
		for range 4 {
			for i := 1; i <= n; i++ {
				c.nodes[i].Propose(c.cmd())
			}
		}
		c.one(c.cmd(), 1, true)
	}
	c.net.reliable = true
	c.one(c.cmd(), n, true)
}

func TestReliableChurn(t *testing.T)   { testChurn(t, true) }
func TestUnreliableChurn(t *testing.T) { testChurn(t, false) }

// testChurn crashes, restarts, cuts and heals nodes at random while
// clients propose; at the end every proposal that reached a leader and
// was applied anywhere must be applied everywhere, in one order.
func testChurn(t *testing.T, reliable bool) {
	const n = 5
	c := newCluster(t, n, reliable)
	type proposal struct {
		index uint64
		cmd   []byte
	}
	var proposed []proposal
	for range 2000 {
		for i := 1; i <= n; i++ {
			if c.nodes[i] != nil && c.rand.IntN(3) == 0 {
				cmd := c.cmd()
				if index, _, ok := c.nodes[i].Propose(cmd); ok {
					proposed = append(proposed, proposal{index, cmd})
				}
			}
		}
		switch r := c.rand.IntN(1000); {
		case r < 10:
			c.disconnect(c.rand.IntN(n) + 1)
		case r < 20:
			if i := c.rand.IntN(n) + 1; c.nodes[i] == nil {
				c.start(i)
			} else {
				c.connect(i)
			}
		case r < 25:
			c.crash(c.rand.IntN(n) + 1)
		}
		c.step()
	}
	for i := 1; i <= n; i++ {
		if c.nodes[i] == nil {
			c.start(i)
		}
		c.connect(i)
	}
	c.net.reliable = true
	last := c.one(c.cmd(), n, true)
	c.wait(last, n)
	got := 0
	for _, p := range proposed {
		if cmd, ok := c.committed[p.index]; ok && string(cmd) == string(p.cmd) {
			got++
		}
	}
	t.Logf("%d of %d proposals committed", got, len(proposed))
	require.Positive(t, got, "churn committed nothing")
}

// Snapshots (6.5840 3D).

func TestSnapshotBasic(t *testing.T) {
	c := newCluster(t, 3, true)
	c.snapEvery = 10
	for range 200 {
		c.one(c.cmd(), 3, true)
	}
	for i := 1; i <= 3; i++ {
		logBytes, snapBytes := c.stores[i].Size()
		assert.Less(t, logBytes, 30*32, "node %d keeps %d bytes of log despite snapshots", i, logBytes)
		assert.Positive(t, snapBytes, "node %d saved no snapshot", i)
	}
}

func TestSnapshotInstall(t *testing.T)           { testSnapshot(t, true, false) }
func TestSnapshotInstallUnreliable(t *testing.T) { testSnapshot(t, false, false) }
func TestSnapshotInstallCrash(t *testing.T)      { testSnapshot(t, true, true) }
func TestSnapshotInstallUnCrash(t *testing.T)    { testSnapshot(t, false, true) }

// testSnapshot leaves a follower behind while the others compact their
// logs past it, so only an InstallSnapshot can bring it back.
func testSnapshot(t *testing.T, reliable, crash bool) {
	const n = 3
	c := newCluster(t, n, reliable)
	c.snapEvery = 10
	c.one(c.cmd(), n, true)
	for iter := range 10 {
		leader := c.checkOneLeader()
		victim := leader%n + 1
		if iter%3 == 1 {
			victim = leader
		}
		if crash {
			c.crash(victim)
		} else {
			c.disconnect(victim)
		}
		for range 11 + c.rand.IntN(20) {
			c.one(c.cmd(), n-1, true)
		}
		if crash {
			c.start(victim)
		} else {
			c.connect(victim)
		}
		c.one(c.cmd(), n, true)
	}
	assert.Positive(t, c.net.sent[MsgSnap], "no InstallSnapshot was sent")
}

func TestSnapshotInit(t *testing.T) {
	const n = 3
	c := newCluster(t, n, true)
	c.snapEvery = 10
	for range 25 {
		c.one(c.cmd(), n, true)
	}
	for i := 1; i <= n; i++ {
		c.restart(i)
	}
	// Each node restarts from its snapshot: the first thing it applies.
	for i := 1; i <= n; i++ {
		first := c.nodes[i].pending
		require.NotEmpty(t, first)
		require.NotNil(t, first[0].Snapshot, "node %d did not start from its snapshot", i)
	}
	c.one(c.cmd(), n, true)
	for i := 1; i <= n; i++ {
		c.restart(i)
	}
	c.one(c.cmd(), n, true)
}
