package raftnet

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

// TestAcknowledgedWritesSurviveLeaderRestarts runs 16 concurrent
// proposers against 3 nodes on fsync'd files over TCP, kills and restarts
// the leader from its files twice, and checks that every proposal the
// leader applied (the point a KV acknowledges a put) is in every node's
// log at the same index, and that no node ever applied two commands at
// one index. It exercises the group commit (the leader's fsync outside
// its lock) with real concurrency, which the tick-driven suite cannot.
func TestAcknowledgedWritesSurviveLeaderRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about two seconds")
	}
	addrs := map[int]string{}
	dirs := map[int]string{}
	for id := 1; id <= 3; id++ {
		ln := listen(t)
		addrs[id] = ln.Addr().String()
		require.NoError(t, ln.Close())
		dirs[id] = t.TempDir()
	}
	var mu sync.Mutex
	nodes := make([]*node, 4)
	stores := make([]*raft.FileStorage, 4)
	states := map[int]*applied{}
	start := func(id int) {
		if states[id] == nil {
			states[id] = newApplied()
		}
		fs, err := raft.OpenFileStorage(dirs[id])
		require.NoError(t, err)
		var ln net.Listener
		require.Eventually(t, func() bool {
			ln, err = net.Listen("tcp", addrs[id])
			return err == nil
		}, 2*time.Second, 10*time.Millisecond, "relisten on %s", addrs[id])
		n := startNodeWith(t, id, ln, addrs, fs, states[id])
		mu.Lock()
		nodes[id], stores[id] = n, fs
		mu.Unlock()
	}
	stop := func(id int) {
		mu.Lock()
		n, fs := nodes[id], stores[id]
		nodes[id] = nil
		mu.Unlock()
		n.close()
		require.NoError(t, fs.Close())
	}
	for id := 1; id <= 3; id++ {
		start(id)
	}
	defer func() {
		for id := 1; id <= 3; id++ {
			if nodes[id] != nil {
				stop(id)
			}
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	var acked sync.Map // index -> command
	var count atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				mu.Lock()
				l := leaderOf(nodes)
				mu.Unlock()
				if l == nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				cmd := fmt.Sprintf("w%d-%d", w, i)
				index, _, ok := l.raft.Propose([]byte(cmd))
				if !ok {
					continue
				}
				deadline := time.Now().Add(time.Second)
				for time.Now().Before(deadline) && ctx.Err() == nil {
					if got, ok := l.has(index); ok {
						if got == cmd {
							acked.Store(index, cmd)
							count.Add(1)
						}
						break
					}
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	for range 2 {
		time.Sleep(400 * time.Millisecond)
		mu.Lock()
		l := leaderOf(nodes)
		mu.Unlock()
		require.NotNil(t, l, "no leader under load")
		stop(l.id)
		time.Sleep(200 * time.Millisecond)
		start(l.id)
	}
	time.Sleep(400 * time.Millisecond)
	cancel()
	wg.Wait()
	require.Positive(t, count.Load(), "nothing was acknowledged")

	// Every acknowledged command reaches every node, at its index.
	var missing []string
	require.Eventually(t, func() bool {
		missing = missing[:0]
		acked.Range(func(k, v any) bool {
			for id := 1; id <= 3; id++ {
				if got, ok := nodes[id].has(k.(uint64)); !ok || got != v.(string) {
					missing = append(missing, fmt.Sprintf("node %d index %d: %q, want %q", id, k, got, v))
				}
			}
			return len(missing) < 5
		})
		return len(missing) == 0
	}, 5*time.Second, 20*time.Millisecond, "acknowledged writes lost: %v", missing)
	for id := 1; id <= 3; id++ {
		states[id].mu.Lock()
		assert.Zero(t, states[id].conflicts, "node %d applied two commands at one index", id)
		states[id].mu.Unlock()
	}
	t.Logf("%d proposals acknowledged across 2 leader restarts", count.Load())
}
