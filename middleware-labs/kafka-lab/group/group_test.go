package group_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func join(ctx context.Context, c *group.Coordinator, member string) *protocol.JoinGroupResponse {
	return c.Join(ctx, &protocol.JoinGroupRequest{GroupID: "g", SessionTimeoutMs: 200, RebalanceTimeoutMs: 300, MemberID: member,
		ProtocolType: "consumer", Protocols: []protocol.GroupProtocol{{Name: "range", Metadata: []byte{1}}}}, "client")
}

// joinAll joins n new members at once and returns their responses.
func joinAll(t *testing.T, c *group.Coordinator, members ...string) []*protocol.JoinGroupResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := make([]*protocol.JoinGroupResponse, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() { out[i] = join(ctx, c, m) })
	}
	wg.Wait()
	for _, r := range out {
		require.Equal(t, protocol.None, r.ErrorCode)
	}
	return out
}

func TestTwoMembersFormOneGenerationAndTheLeaderAssigns(t *testing.T) {
	var mu sync.Mutex
	var gens []group.Generation
	c := mustNew(t, group.Config{InitialRebalanceDelay: 50 * time.Millisecond, OnGeneration: func(g group.Generation) {
		mu.Lock()
		defer mu.Unlock()
		gens = append(gens, g)
	}})
	res := joinAll(t, c, "", "")
	require.Equal(t, res[0].GenerationID, res[1].GenerationID)
	leader := res[0]
	if res[1].MemberID == res[0].LeaderID {
		leader = res[1]
	}
	assert.Len(t, leader.Members, 2, "only the leader learns the members")
	mu.Lock()
	assert.Len(t, gens, 1, "two members joining within the initial delay form one generation")
	mu.Unlock()

	ctx := context.Background()
	follower := res[0]
	if follower == leader {
		follower = res[1]
	}
	got := make(chan *protocol.SyncGroupResponse, 1)
	go func() {
		got <- c.Sync(ctx, &protocol.SyncGroupRequest{GroupID: "g", GenerationID: follower.GenerationID, MemberID: follower.MemberID})
	}()
	time.Sleep(20 * time.Millisecond) // the follower waits for the leader
	ls := c.Sync(ctx, &protocol.SyncGroupRequest{GroupID: "g", GenerationID: leader.GenerationID, MemberID: leader.MemberID,
		Assignments: map[string][]byte{leader.MemberID: []byte("p0"), follower.MemberID: []byte("p1")}})
	assert.Equal(t, []byte("p0"), ls.Assignment)
	assert.Equal(t, []byte("p1"), (<-got).Assignment)
	state, _, n := c.Describe("g")
	assert.Equal(t, group.Stable, state)
	assert.Equal(t, 2, n)
}

func TestHeartbeatAnswers(t *testing.T) {
	c := mustNew(t, group.Config{})
	r := joinAll(t, c, "")[0]
	tests := []struct {
		name string
		req  protocol.HeartbeatRequest
		want protocol.ErrorCode
	}{
		{"current member", protocol.HeartbeatRequest{GroupID: "g", GenerationID: r.GenerationID, MemberID: r.MemberID}, protocol.None},
		{"old generation", protocol.HeartbeatRequest{GroupID: "g", GenerationID: r.GenerationID - 1, MemberID: r.MemberID}, protocol.IllegalGeneration},
		{"unknown member", protocol.HeartbeatRequest{GroupID: "g", GenerationID: r.GenerationID, MemberID: "nobody"}, protocol.UnknownMemberID},
		{"unknown group", protocol.HeartbeatRequest{GroupID: "h", GenerationID: r.GenerationID, MemberID: r.MemberID}, protocol.UnknownMemberID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, c.Heartbeat(&tc.req)) })
	}
}

func TestAJoinTellsTheOthersToRejoinAndALeaveRebalances(t *testing.T) {
	c := mustNew(t, group.Config{})
	first := joinAll(t, c, "")[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	second := make(chan *protocol.JoinGroupResponse, 1)
	go func() { second <- join(ctx, c, "") }()
	require.Eventually(t, func() bool {
		return c.Heartbeat(&protocol.HeartbeatRequest{GroupID: "g", GenerationID: first.GenerationID, MemberID: first.MemberID}) == protocol.RebalanceInProgress
	}, time.Second, 5*time.Millisecond, "the first member hears of the rebalance in its heartbeat")
	again := join(ctx, c, first.MemberID)
	s := <-second
	assert.Equal(t, first.GenerationID+1, again.GenerationID)
	assert.Equal(t, again.GenerationID, s.GenerationID)

	assert.Equal(t, protocol.None, c.Leave(&protocol.LeaveGroupRequest{GroupID: "g", MemberID: s.MemberID}))
	state, _, n := c.Describe("g")
	assert.Equal(t, group.PreparingRebalance, state)
	assert.Equal(t, 1, n)
}

func TestAMemberThatStopsHeartbeatingIsExpired(t *testing.T) {
	c := mustNew(t, group.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	r := joinAll(t, c, "")[0]
	require.Eventually(t, func() bool {
		_, _, n := c.Describe("g")
		return n == 0
	}, 2*time.Second, 10*time.Millisecond, "the 200 ms session lapses")
	assert.Equal(t, protocol.UnknownMemberID, c.Heartbeat(&protocol.HeartbeatRequest{GroupID: "g", GenerationID: r.GenerationID, MemberID: r.MemberID}))
}

func TestOffsetsCommitOnlyFromTheCurrentGeneration(t *testing.T) {
	c := mustNew(t, group.Config{})
	r := joinAll(t, c, "")[0]
	commit := func(gen int32, member string, off int64) protocol.ErrorCode {
		res := c.Commit(&protocol.OffsetCommitRequest{GroupID: "g", GenerationID: gen, MemberID: member,
			Topics: []protocol.OffsetCommitTopic{{Name: "t", Partitions: []protocol.OffsetCommitPartition{{Partition: 0, Offset: off}}}}})
		return res.Topics[0].Partitions[0].ErrorCode
	}
	// CompletingRebalance until the leader syncs: the assignment may still move.
	assert.Equal(t, protocol.RebalanceInProgress, commit(r.GenerationID, r.MemberID, 5))
	c.Sync(context.Background(), &protocol.SyncGroupRequest{GroupID: "g", GenerationID: r.GenerationID, MemberID: r.MemberID})
	assert.Equal(t, protocol.None, commit(r.GenerationID, r.MemberID, 7))
	assert.Equal(t, protocol.IllegalGeneration, commit(r.GenerationID-1, r.MemberID, 9))
	assert.Equal(t, protocol.UnknownMemberID, commit(r.GenerationID, "zombie", 9))
	assert.Equal(t, int64(7), c.Committed("g", "t", 0))

	f := c.Fetch(&protocol.OffsetFetchRequest{GroupID: "g", Topics: []protocol.OffsetFetchTopic{{Name: "t", Partitions: []int32{0, 1}}}})
	assert.Equal(t, int64(7), f.Topics[0].Partitions[0].Offset)
	assert.Equal(t, int64(-1), f.Topics[0].Partitions[1].Offset, "nothing committed")
}

func mustNew(t *testing.T, cfg group.Config) *group.Coordinator {
	t.Helper()
	c, err := group.New(cfg)
	require.NoError(t, err)
	return c
}

// memStore is an OffsetStore in memory, to prove the coordinator saves
// before it acknowledges and reloads what was saved.
type memStore struct{ saved []group.Offset }

func (m *memStore) Save(o group.Offset) error     { m.saved = append(m.saved, o); return nil }
func (m *memStore) Load() ([]group.Offset, error) { return m.saved, nil }

func TestCommittedOffsetsOutliveTheCoordinator(t *testing.T) {
	store := &memStore{}
	c := mustNew(t, group.Config{Offsets: store})
	for _, off := range []int64{5, 9} {
		res := c.Commit(&protocol.OffsetCommitRequest{GroupID: "g", GenerationID: -1,
			Topics: []protocol.OffsetCommitTopic{{Name: "t", Partitions: []protocol.OffsetCommitPartition{{Partition: 2, Offset: off}}}}})
		require.Equal(t, protocol.None, res.Topics[0].Partitions[0].ErrorCode)
	}
	restarted := mustNew(t, group.Config{Offsets: store})
	assert.Equal(t, int64(9), restarted.Committed("g", "t", 2), "the last commit wins")
}
