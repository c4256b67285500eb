package replication_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

// slowLink is a follower's link to its leader with a delay on every fetch, as a network adds: it
// is what leaves a window between a leader's append and its followers' copies.
type slowLink struct {
	replication.LocalLeader
	delay time.Duration
}

func (s slowLink) FetchAsFollower(ctx context.Context, replica int32, offset int64, maxBytes int) (replication.FetchResult, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return replication.FetchResult{}, ctx.Err()
	}
	return s.LocalLeader.FetchAsFollower(ctx, replica, offset, maxBytes)
}

// TestFailoverUnderLoad kills the leader at a random moment while a producer sends as fast as it
// can and two followers fetch over slow links; the first ISR member becomes leader, the others
// follow it and reconcile. It counts records that were acknowledged and are missing afterwards.
// acks=all with min.insync.replicas=2 must lose none in every run; acks=1 loses some. The seed
// picks the moment of the kill (FAILSEED=<seed> replays it); the scheduler picks the rest.
func TestFailoverUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name   string
		acks   int16
		minISR int
		runs   int
	}{
		{"acks=all", -1, 2, 20},
		{"acks=1", 1, 1, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total := 0
			for run := range tc.runs {
				seed := uint64(time.Now().UnixNano())
				if s := os.Getenv("FAILSEED"); s != "" {
					v, err := strconv.ParseUint(s, 10, 64)
					require.NoError(t, err)
					seed = v
				}
				lost, acked := failoverOnce(t, seed, tc.acks, tc.minISR)
				t.Logf("run %d seed=%d: %d acknowledged, %d lost", run, seed, acked, lost)
				total += lost
				if tc.acks == -1 {
					require.Zero(t, lost, "run %d seed=%d: acks=all lost acknowledged records", run, seed)
				}
			}
			if tc.acks == 1 {
				assert.Positive(t, total, "acks=1 with a lagging follower should lose acknowledged records")
			}
		})
	}
}

func failoverOnce(t *testing.T, seed uint64, acks int16, minISR int) (lost, acked int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	replicas := []int32{1, 2, 3}
	logs := map[int32]*commitlog.Log{}
	for _, r := range replicas {
		logs[r] = openLog(t)
	}
	p1, err := replication.NewPartition(logs[1], replicas, 1, minISR, replication.WithLeaderEpoch(0))
	require.NoError(t, err)

	fctx, stopFollowers := context.WithCancel(context.Background())
	followers := map[int32]*replication.Follower{}
	var wg sync.WaitGroup
	for _, r := range replicas[1:] {
		f := replication.NewFollower(logs[r], r, slowLink{replication.LocalLeader{Partition: p1, MaxWait: 20 * time.Millisecond}, 2 * time.Millisecond}, nil,
			replication.WithRetryBackoff(time.Millisecond))
		followers[r] = f
		wg.Go(func() { _ = f.Run(fctx) })
	}

	var mu sync.Mutex
	ackedSet := map[string]bool{}
	var pwg sync.WaitGroup
	pwg.Go(func() {
		for i := 0; ; i++ {
			v := fmt.Sprintf("m%d", i)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := p1.AppendAsLeader(ctx, valueBatch(v), acks)
			cancel()
			if errors.Is(err, replication.ErrNotLeader) {
				return
			}
			if err == nil {
				mu.Lock()
				ackedSet[v] = true
				mu.Unlock()
			}
		}
	})
	time.Sleep(time.Duration(20+rng.IntN(40)) * time.Millisecond)

	// The leader dies: it stops serving followers and producers at once.
	p1.Resign()
	stopFollowers()
	pwg.Wait()
	wg.Wait()

	// The controller elects the first in-sync follower.
	var next int32
	for _, r := range p1.ISR() {
		if r != 1 {
			next = r
			break
		}
	}
	require.NotZero(t, next, "no follower in the ISR")
	p2, err := followers[next].Promote(replicas, 1, 1)
	require.NoError(t, err)

	// The others, the old leader among them, follow the new leader and reconcile.
	for _, r := range replicas {
		if r == next {
			continue
		}
		epochs := p1.Epochs()
		if f, ok := followers[r]; ok {
			epochs = f.Epochs()
		}
		catchUp(t, replication.NewFollower(logs[r], r, replication.LocalLeader{Partition: p2}, epochs), logs[r], logs[next])
	}
	have := map[string]bool{}
	for _, v := range values(t, logs[next]) {
		require.False(t, have[v], "seed=%d: %s twice in the new leader's log", seed, v)
		have[v] = true
	}
	for v := range ackedSet {
		if !have[v] {
			lost++
		}
	}
	for _, r := range replicas {
		require.Equal(t, values(t, logs[next]), values(t, logs[r]), "seed=%d: replica %d disagrees with the new leader", seed, r)
	}
	return lost, len(ackedSet)
}
