package raftnet

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
	"github.com/architect-roadmap/architect-roadmap/labkit/netfault"
)

// TestPartitionAndHealThroughProxies runs 3 nodes whose every link goes
// through a labkit/netfault proxy, isolates the leader, and checks that
// the majority elects another, the old one steps down, and after Heal
// (which closes the blackholed connections) the transport redials and
// the old leader catches up.
func TestPartitionAndHealThroughProxies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nf := netfault.New(ctx, 7, nil)
	defer func() { _ = nf.Close() }()

	name := func(id int) string { return fmt.Sprintf("node%d", id) }
	lns := map[int]net.Listener{}
	for id := 1; id <= 3; id++ {
		lns[id] = listen(t)
	}
	nodes := make([]*node, 4)
	for id := 1; id <= 3; id++ {
		addrs := map[int]string{id: lns[id].Addr().String()}
		for peer := 1; peer <= 3; peer++ {
			if peer == id {
				continue
			}
			p, err := nf.Link(name(id), name(peer), lns[peer].Addr().String())
			require.NoError(t, err)
			addrs[peer] = p
		}
		nodes[id] = startNode(t, id, lns[id], addrs, raft.NewMemoryStorage())
	}
	defer func() {
		for _, n := range nodes[1:] {
			n.close()
		}
	}()

	var old *node
	require.Eventually(t, func() bool { old = leaderOf(nodes); return old != nil }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, nf.Isolate(name(old.id)))

	var index uint64
	require.Eventually(t, func() bool {
		for _, n := range nodes[1:] {
			if n == old {
				continue
			}
			if idx, _, ok := n.raft.Propose([]byte("during-partition")); ok {
				index = idx
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "the majority elected no leader")
	require.Eventually(t, func() bool {
		_, isLeader := old.raft.State()
		return !isLeader
	}, 5*time.Second, 10*time.Millisecond, "the isolated leader never stepped down")
	_, ok := old.has(index)
	require.False(t, ok, "the isolated node applied an entry it cannot have received")

	require.NoError(t, nf.Heal())
	require.Eventually(t, func() bool {
		v, ok := old.has(index)
		return ok && v == "during-partition"
	}, 5*time.Second, 10*time.Millisecond, "the old leader did not catch up after heal")
	require.Greater(t, old.tcp.Stats().Dials, uint64(2), "no redial after heal")
}
