package replication_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

func openLog(t *testing.T) *commitlog.Log {
	t.Helper()
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{Fsync: commitlog.FsyncInterval})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// valueBatch is a one-record batch whose value names it, so a test can list what a log holds.
func valueBatch(v string) []byte {
	return recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{{Value: []byte(v), Timestamp: 1}})
}

// values lists the record values of a whole log.
func values(t *testing.T, l *commitlog.Log) []string {
	t.Helper()
	var out []string
	require.NoError(t, l.Scan(context.Background(), l.StartOffset(), func(_ recordbatch.Header, b []byte) error {
		recs, err := recordbatch.Records(b)
		require.NoError(t, err)
		for _, r := range recs {
			out = append(out, string(r.Value))
		}
		return nil
	}))
	return out
}

// catchUp fetches until the follower has everything the leader has and the leader knows it.
func catchUp(t *testing.T, f *replication.Follower, fl, leader *commitlog.Log) {
	t.Helper()
	for range 100 {
		if _, err := f.FetchOnce(context.Background()); err != nil {
			continue // a reconciliation retry
		}
		if fl.EndOffset() == leader.EndOffset() {
			_, err := f.FetchOnce(context.Background()) // report the new LEO, learn the HW
			require.NoError(t, err)
			return
		}
	}
	t.Fatalf("follower stuck at %d, leader at %d", fl.EndOffset(), leader.EndOffset())
}

func TestFollowerCopiesTheLeader(t *testing.T) {
	ctx := context.Background()
	l1, l2 := openLog(t), openLog(t)
	p1, err := replication.NewPartition(l1, []int32{1, 2}, 1, 1, replication.WithLeaderEpoch(3))
	require.NoError(t, err)
	f2 := replication.NewFollower(l2, 2, replication.LocalLeader{Partition: p1}, nil, replication.WithFetchMaxBytes(1))
	for _, v := range []string{"a", "b", "c", "d"} {
		_, err := p1.AppendAsLeader(ctx, valueBatch(v), 1)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 0, p1.HighWatermark(), "the follower has not fetched")
	catchUp(t, f2, l2, l1)
	assert.Equal(t, []string{"a", "b", "c", "d"}, values(t, l2))
	assert.EqualValues(t, 4, p1.HighWatermark())
	assert.EqualValues(t, 4, f2.HighWatermark())
	assert.Equal(t, []replication.EpochEntry{{Epoch: 3, StartOffset: 0}}, f2.Epochs().Entries())

	a, err := l1.Read(ctx, 0, 1<<20)
	require.NoError(t, err)
	b, err := l2.Read(ctx, 0, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, a, b, "byte for byte, leader epoch included")
}

// TestLeaderFailover is the lab's acked-message-loss at the level of this package. The same
// sequence runs twice: record a is committed on all replicas; replica 3 stops fetching and leaves
// the ISR; the producer sends b and gets its ack; the leader dies at once; the controller elects
// replica 2 (in the ISR), which takes c; the old leader comes back as a follower and reconciles.
// With acks=1 the ack came before any follower had b, and b is gone from every log. With acks=all
// and min.insync.replicas=2 the ack waited for replica 2, and b survives.
func TestLeaderFailover(t *testing.T) {
	for _, tc := range []struct {
		name     string
		acks     int16
		minISR   int
		wantLost []string
	}{
		{"acks=1 loses the acknowledged record", 1, 1, []string{"b"}},
		{"acks=all with min.insync.replicas=2 keeps it", -1, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{now: time.Unix(1_000_000, 0)}
			l1, l2, l3 := openLog(t), openLog(t), openLog(t)
			replicas := []int32{1, 2, 3}
			p1, err := replication.NewPartition(l1, replicas, 1, tc.minISR, replication.WithLeaderEpoch(0), replication.WithLagTime(lag), replication.WithClock(c.Now))
			require.NoError(t, err)
			f2 := replication.NewFollower(l2, 2, replication.LocalLeader{Partition: p1}, nil)
			f3 := replication.NewFollower(l3, 3, replication.LocalLeader{Partition: p1}, nil)

			// a is written and copied to both followers: committed.
			_, err = p1.AppendAsLeader(ctx, valueBatch("a"), 1)
			require.NoError(t, err)
			catchUp(t, f2, l2, l1)
			catchUp(t, f3, l3, l1)
			require.EqualValues(t, 1, p1.HighWatermark())
			acked := []string{"a"}

			// Replica 3 stops fetching; after the lag time it leaves the ISR.
			c.Advance(lag + time.Second)
			require.NoError(t, p1.FollowerFetch(2, l2.EndOffset()))
			require.Equal(t, []int32{3}, p1.MaybeShrinkISR())

			// The producer sends b and waits for its ack.
			res := appendAsync(ctx, p1, valueBatch("b"), tc.acks)
			if tc.acks == -1 {
				pending(t, res)
				catchUp(t, f2, l2, l1)
			}
			r := done(t, res)
			require.NoError(t, r.err)
			acked = append(acked, "b")

			// The leader dies right after the ack. Replica 2, in the ISR, becomes leader of epoch 1.
			p1.Resign()
			p2, err := f2.Promote(replicas, 1, 1, replication.WithLagTime(lag), replication.WithClock(c.Now))
			require.NoError(t, err)
			_, err = p2.AppendAsLeader(ctx, valueBatch("c"), 1)
			require.NoError(t, err)
			acked = append(acked, "c")

			// Replica 1 restarts as a follower of 2, with the epoch history its log carries.
			epochs, err := replication.LoadEpochs(ctx, l1)
			require.NoError(t, err)
			f1 := replication.NewFollower(l1, 1, replication.LocalLeader{Partition: p2}, epochs)
			catchUp(t, f1, l1, l2)

			have := map[string]bool{}
			for _, v := range values(t, l2) {
				have[v] = true
			}
			var lost []string
			for _, v := range acked {
				if !have[v] {
					lost = append(lost, v)
				}
			}
			assert.Equal(t, tc.wantLost, lost, "acknowledged but missing from the new leader")
			assert.Equal(t, values(t, l2), values(t, l1), "the old leader now agrees with the new one")
			assert.EqualValues(t, len(tc.wantLost), f1.Truncated(), "what reconciliation cut")
		})
	}
}

func TestEpochCache(t *testing.T) {
	c := &replication.EpochCache{}
	assert.Equal(t, replication.UndefinedEpochEnd, c.EndOffsetFor(0, 10))
	c.Assign(-1, 0) // unstamped batches carry no epoch
	c.Assign(2, 0)
	c.Assign(2, 5) // same epoch again: no new entry
	c.Assign(1, 7) // older epoch: ignored
	c.Assign(4, 10)
	c.Assign(7, 25)
	assert.Equal(t, []replication.EpochEntry{{2, 0}, {4, 10}, {7, 25}}, c.Entries())
	for _, tc := range []struct {
		epoch int32
		want  replication.EpochEnd
	}{
		{1, replication.UndefinedEpochEnd},
		{2, replication.EpochEnd{Epoch: 2, EndOffset: 10}},
		{3, replication.EpochEnd{Epoch: 2, EndOffset: 10}}, // the largest epoch at or below 3
		{4, replication.EpochEnd{Epoch: 4, EndOffset: 25}},
		{7, replication.EpochEnd{Epoch: 7, EndOffset: 30}}, // the current epoch ends at the log end
		{9, replication.EpochEnd{Epoch: 7, EndOffset: 30}},
	} {
		assert.Equal(t, tc.want, c.EndOffsetFor(tc.epoch, 30), "epoch %d", tc.epoch)
	}
	c.TruncateFromEnd(25)
	assert.Equal(t, []replication.EpochEntry{{2, 0}, {4, 10}}, c.Entries())
	latest, ok := c.Latest()
	assert.True(t, ok)
	assert.Equal(t, replication.EpochEntry{Epoch: 4, StartOffset: 10}, latest)
}

func TestLoadEpochs(t *testing.T) {
	ctx := context.Background()
	l := openLog(t)
	for i, epoch := range []int32{-1, 0, 0, 2, 2, 5} {
		b := valueBatch("x")
		recordbatch.SetPartitionLeaderEpoch(b, epoch)
		_, err := l.Append(b)
		require.NoError(t, err, "batch %d", i)
	}
	c, err := replication.LoadEpochs(ctx, l)
	require.NoError(t, err)
	assert.Equal(t, []replication.EpochEntry{{0, 1}, {2, 3}, {5, 5}}, c.Entries())
}

// A follower whose next offset the leader's retention already deleted starts over at the
// leader's log start instead of fetching forever.
func TestFollowerBehindLogStart(t *testing.T) {
	ctx := context.Background()
	one := len(valueBatch("a"))
	l1, err := commitlog.Open(t.TempDir(), commitlog.Options{SegmentBytes: int64(one), RetentionBytes: int64(one)})
	require.NoError(t, err)
	defer func() { _ = l1.Close() }()
	l2 := openLog(t)
	p1, err := replication.NewPartition(l1, []int32{1, 2}, 1, 1)
	require.NoError(t, err)
	for range 5 {
		_, err := p1.AppendAsLeader(ctx, valueBatch("a"), 1)
		require.NoError(t, err)
	}
	require.Positive(t, l1.StartOffset())
	f2 := replication.NewFollower(l2, 2, replication.LocalLeader{Partition: p1}, nil)
	catchUp(t, f2, l2, l1)
	assert.Equal(t, l1.StartOffset(), l2.StartOffset())
	assert.Equal(t, l1.EndOffset(), l2.EndOffset())
}

// Without epoch information (batches written before epochs were stamped) a follower ahead of
// the new leader falls back to truncating at its high watermark.
func TestFollowerWithoutEpochsTruncatesToHW(t *testing.T) {
	ctx := context.Background()
	l1, l2 := openLog(t), openLog(t)
	for _, v := range []string{"a", "b", "c"} {
		_, err := l2.Append(valueBatch(v)) // epoch -1, written by a pre-epoch leader
		require.NoError(t, err)
	}
	_, err := l1.Append(valueBatch("a"))
	require.NoError(t, err)
	p1, err := replication.NewPartition(l1, []int32{1, 2}, 1, 1, replication.WithLeaderEpoch(1))
	require.NoError(t, err)
	f2 := replication.NewFollower(l2, 2, replication.LocalLeader{Partition: p1}, nil, replication.WithFollowerHighWatermark(1))
	_, err = p1.AppendAsLeader(ctx, valueBatch("d"), 1)
	require.NoError(t, err)
	catchUp(t, f2, l2, l1)
	assert.Equal(t, []string{"a", "d"}, values(t, l2))
	assert.EqualValues(t, 2, f2.Truncated())
}

// TestReplicatedAcksAll runs two followers as goroutines and a producer with acks=all: every
// acknowledged batch is on all three logs, byte for byte.
func TestReplicatedAcksAll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	logs := []*commitlog.Log{openLog(t), openLog(t), openLog(t)}
	p, err := replication.NewPartition(logs[0], []int32{1, 2, 3}, 1, 2, replication.WithLeaderEpoch(1))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i, r := range []int32{2, 3} {
		f := replication.NewFollower(logs[i+1], r, replication.LocalLeader{Partition: p, MaxWait: 50 * time.Millisecond}, nil, replication.WithRetryBackoff(time.Millisecond))
		wg.Go(func() { assert.NoError(t, f.Run(ctx)) })
	}
	for i := range 50 {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := p.AppendAsLeader(actx, valueBatch(string(rune('A'+i%26))), -1)
		acancel()
		require.NoError(t, err, "batch %d", i)
	}
	assert.EqualValues(t, 50, p.HighWatermark())
	require.Eventually(t, func() bool { return logs[1].EndOffset() == 50 && logs[2].EndOffset() == 50 }, 5*time.Second, time.Millisecond)
	cancel()
	wg.Wait()
	want, err := logs[0].Read(context.Background(), 0, 1<<20)
	require.NoError(t, err)
	for _, l := range logs[1:] {
		got, err := l.Read(context.Background(), 0, 1<<20)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}
