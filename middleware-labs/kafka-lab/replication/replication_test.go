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
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a hand-moved time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const lag = 10 * time.Second

func batch(n int) []byte {
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Value: []byte("v" + strconv.Itoa(i)), Timestamp: 1}
	}
	return recordbatch.Build(recordbatch.Header{}, recs)
}

// newPartition leads a partition on replicas 1, 2, 3 (this broker is 1) with a fake clock.
func newPartition(t *testing.T, minISR int, opts ...replication.Option) (*replication.Partition, *clock) {
	t.Helper()
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	c := &clock{now: time.Unix(1_000_000, 0)}
	p, err := replication.NewPartition(l, []int32{1, 2, 3}, 1, minISR, append([]replication.Option{replication.WithLagTime(lag), replication.WithClock(c.Now)}, opts...)...)
	require.NoError(t, err)
	return p, c
}

// appendAsync runs AppendAsLeader in a goroutine; the result arrives on the channel.
type result struct {
	base int64
	err  error
}

func appendAsync(ctx context.Context, p *replication.Partition, b []byte, acks int16) <-chan result {
	ch := make(chan result, 1)
	go func() {
		base, err := p.AppendAsLeader(ctx, b, acks)
		ch <- result{base, err}
	}()
	return ch
}

func pending(t *testing.T, ch <-chan result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("append returned early: %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
}

func done(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("append did not return")
		return result{}
	}
}

func TestSingleReplicaCommitsOnAppend(t *testing.T) {
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	p, err := replication.NewPartition(l, []int32{1}, 1, 1)
	require.NoError(t, err)
	for _, acks := range []int16{0, 1, -1} {
		base, err := p.AppendAsLeader(context.Background(), batch(2), acks)
		require.NoError(t, err)
		assert.Equal(t, base+2, p.HighWatermark(), "acks=%d", acks)
	}
	assert.Equal(t, []int32{1}, p.ISR())
}

func TestAcksAllWaitsForTheISR(t *testing.T) {
	ctx := context.Background()
	p, _ := newPartition(t, 2)
	assert.Equal(t, []int32{1, 2, 3}, p.ISR())

	res := appendAsync(ctx, p, batch(3), -1)
	pending(t, res)
	require.Eventually(t, func() bool { return p.LogEndOffset() == 3 }, 5*time.Second, time.Millisecond)
	require.NoError(t, p.FollowerFetch(2, 3))
	pending(t, res) // replica 3 is in the ISR and has not fetched: HW stays at 0
	assert.EqualValues(t, 0, p.HighWatermark())
	require.NoError(t, p.FollowerFetch(3, 3))
	r := done(t, res)
	require.NoError(t, r.err)
	assert.EqualValues(t, 0, r.base)
	assert.EqualValues(t, 3, p.HighWatermark())

	// acks=1 returns at once, with HW behind it.
	base, err := p.AppendAsLeader(ctx, batch(2), 1)
	require.NoError(t, err)
	assert.EqualValues(t, 3, base)
	assert.EqualValues(t, 3, p.HighWatermark())
	assert.EqualValues(t, 5, p.LogEndOffset())
}

func TestLaggingFollowerLeavesTheISR(t *testing.T) {
	ctx := context.Background()
	var changes [][]int32
	var mu sync.Mutex
	p, c := newPartition(t, 2, replication.WithISRChange(func(isr []int32) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, isr)
	}))
	res := appendAsync(ctx, p, batch(1), -1)
	require.Eventually(t, func() bool { return p.LogEndOffset() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, p.FollowerFetch(2, 1))
	pending(t, res)

	for _, tc := range []struct {
		advance time.Duration
		dropped []int32
	}{
		{lag / 2, nil},
		{lag / 2, nil}, // exactly LagTime without catching up: not yet
		{time.Millisecond, []int32{3}},
	} {
		c.Advance(tc.advance)
		require.NoError(t, p.FollowerFetch(2, 1)) // 2 keeps fetching at the leader's LEO
		assert.Equal(t, tc.dropped, p.MaybeShrinkISR())
	}
	assert.Equal(t, []int32{1, 2}, p.ISR())
	r := done(t, res) // HW no longer waits for 3
	require.NoError(t, r.err)
	assert.EqualValues(t, 1, p.HighWatermark())

	// 3 comes back: below HW it stays out, at HW it rejoins.
	require.NoError(t, p.FollowerFetch(3, 0))
	assert.Equal(t, []int32{1, 2}, p.ISR())
	require.NoError(t, p.FollowerFetch(3, 1))
	assert.Equal(t, []int32{1, 2, 3}, p.ISR())
	mu.Lock()
	assert.Equal(t, [][]int32{{1, 2}, {1, 2, 3}}, changes)
	mu.Unlock()
}

// A follower that is always one fetch behind a busy leader is still in sync: at each fetch it has
// what the leader had at its previous fetch (Kafka's lastFetchLeaderLogEndOffset rule).
func TestBusyFollowerStaysInSync(t *testing.T) {
	ctx := context.Background()
	p, c := newPartition(t, 1)
	require.NoError(t, p.FollowerFetch(2, 0))
	require.NoError(t, p.FollowerFetch(3, 0))
	for range 30 {
		_, err := p.AppendAsLeader(ctx, batch(1), 1)
		require.NoError(t, err)
		c.Advance(lag / 3)
		// Each follower fetches from what the leader had at its previous fetch; one more batch
		// has arrived since.
		for _, r := range []int32{2, 3} {
			require.NoError(t, p.FollowerFetch(r, p.LogEndOffset()-1))
		}
		assert.Empty(t, p.MaybeShrinkISR())
	}
	assert.Equal(t, []int32{1, 2, 3}, p.ISR())
	assert.Equal(t, p.LogEndOffset()-1, p.HighWatermark())
}

func TestMinISR(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		minISR   int
		acks     int16
		wantErr  error
		wantCode int16
	}{
		{"acks=all below min.insync.replicas is refused", 2, -1, replication.ErrNotEnoughReplicas, 19},
		{"acks=1 ignores min.insync.replicas", 2, 1, nil, 0},
		{"acks=0 ignores it too", 3, 0, nil, 0},
		{"min.insync.replicas 1 accepts acks=all alone", 1, -1, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := newPartition(t, tc.minISR)
			c.Advance(lag + time.Second)
			require.Equal(t, []int32{2, 3}, p.MaybeShrinkISR())
			end := p.LogEndOffset()
			_, err := p.AppendAsLeader(ctx, batch(1), tc.acks)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Equal(t, tc.wantCode, replication.ErrorCode(err))
			if tc.wantErr != nil {
				assert.Equal(t, end, p.LogEndOffset(), "a refused batch is not written")
			}
		})
	}
}

func TestNotEnoughReplicasAfterAppend(t *testing.T) {
	ctx := context.Background()
	p, c := newPartition(t, 2)
	require.NoError(t, p.FollowerFetch(2, 0))
	require.NoError(t, p.FollowerFetch(3, 0))
	res := appendAsync(ctx, p, batch(1), -1)
	pending(t, res)
	require.Eventually(t, func() bool { return p.LogEndOffset() == 1 }, 5*time.Second, time.Millisecond)
	c.Advance(lag + time.Second) // neither follower fetches the batch in time
	assert.Equal(t, []int32{2, 3}, p.MaybeShrinkISR())
	r := done(t, res)
	require.ErrorIs(t, r.err, replication.ErrNotEnoughReplicasAfterAppend)
	assert.EqualValues(t, 20, replication.ErrorCode(r.err))
	assert.EqualValues(t, 0, r.base, "the batch is in the log all the same")
	assert.EqualValues(t, 1, p.HighWatermark())
}

func TestAcksAllTimesOut(t *testing.T) {
	p, _ := newPartition(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := p.AppendAsLeader(ctx, batch(1), -1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 7, replication.ErrorCode(err))
}

func TestResignWakesProducers(t *testing.T) {
	p, _ := newPartition(t, 2)
	res := appendAsync(context.Background(), p, batch(1), -1)
	pending(t, res)
	p.Resign()
	r := done(t, res)
	require.ErrorIs(t, r.err, replication.ErrNotLeader)
	_, err := p.AppendAsLeader(context.Background(), batch(1), 1)
	require.ErrorIs(t, err, replication.ErrNotLeader)
	require.ErrorIs(t, p.FollowerFetch(2, 0), replication.ErrNotLeader)
}

func TestReadCommittedStopsAtHW(t *testing.T) {
	ctx := context.Background()
	p, _ := newPartition(t, 1)
	for range 3 {
		_, err := p.AppendAsLeader(ctx, batch(2), 1)
		require.NoError(t, err)
	}
	require.NoError(t, p.FollowerFetch(2, 4))
	require.NoError(t, p.FollowerFetch(3, 2))
	assert.EqualValues(t, 2, p.HighWatermark())
	b, err := p.ReadCommitted(ctx, 0, 1<<20)
	require.NoError(t, err)
	parts, err := recordbatch.Split(b)
	require.NoError(t, err)
	assert.Len(t, parts, 1, "only the batch below HW")
	b, err = p.ReadCommitted(ctx, 2, 1<<20)
	require.NoError(t, err)
	assert.Empty(t, b)

	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, p.WaitHighWatermark(wctx, 2), context.DeadlineExceeded)
	errc := make(chan error, 1)
	go func() { errc <- p.WaitHighWatermark(ctx, 2) }()
	require.NoError(t, p.FollowerFetch(3, 6))
	require.NoError(t, <-errc)
	assert.EqualValues(t, 4, p.HighWatermark())
}

func TestFollowerFetchRejects(t *testing.T) {
	p, _ := newPartition(t, 1)
	require.ErrorIs(t, p.FollowerFetch(9, 0), replication.ErrUnknownReplica)
	require.ErrorIs(t, p.FollowerFetch(2, 5), commitlog.ErrOffsetOutOfRange)
	_, err := p.AppendAsLeader(context.Background(), batch(1), 2)
	require.ErrorIs(t, err, replication.ErrInvalidRequiredAcks)
	assert.EqualValues(t, 21, replication.ErrorCode(err))
	_, err = p.AppendAsLeader(context.Background(), []byte("junk"), 1)
	assert.EqualValues(t, 2, replication.ErrorCode(err))
}

func TestNewPartitionRejects(t *testing.T) {
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	_, err = replication.NewPartition(l, []int32{1, 2}, 3, 1)
	require.ErrorContains(t, err, "not among the replicas")
	_, err = replication.NewPartition(l, []int32{1, 2}, 1, 3)
	require.ErrorContains(t, err, "min.insync.replicas 3")
	_, err = replication.NewPartition(l, []int32{1, 2}, 1, 0)
	require.Error(t, err)
}

func TestCheckpointedHighWatermark(t *testing.T) {
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	for range 5 {
		_, err := l.Append(batch(1))
		require.NoError(t, err)
	}
	p, err := replication.NewPartition(l, []int32{1, 2}, 1, 1, replication.WithHighWatermark(3))
	require.NoError(t, err)
	assert.EqualValues(t, 3, p.HighWatermark(), "followers unknown: HW stays at the checkpoint")
	require.NoError(t, p.FollowerFetch(2, 1))
	assert.EqualValues(t, 3, p.HighWatermark(), "HW never moves back")
	require.NoError(t, p.FollowerFetch(2, 5))
	assert.EqualValues(t, 5, p.HighWatermark())
}

func TestRunShrinksOnATimer(t *testing.T) {
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	p, err := replication.NewPartition(l, []int32{1, 2}, 1, 1, replication.WithLagTime(20*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	assert.Eventually(t, func() bool { return len(p.ISR()) == 1 }, 2*time.Second, 5*time.Millisecond)
	cancel()
	wg.Wait()
}

// TestHighWatermarkInvariant drives a partition with random appends, fetches, clock moves and ISR
// checks, and after every step checks the rules: HW never moves back, never exceeds the LEO of
// any ISR member, and the leader is always in the ISR. The seed is printed and HWSEED replays it.
func TestHighWatermarkInvariant(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HWSEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seed = v
	}
	t.Logf("seed=%d (HWSEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := context.Background()
	p, c := newPartition(t, 1)
	leo := map[int32]int64{2: -1, 3: -1}
	prevHW := int64(0)
	for step := range 2000 {
		switch op := rng.IntN(10); {
		case op < 3:
			_, err := p.AppendAsLeader(ctx, batch(1+rng.IntN(3)), 1)
			require.NoError(t, err)
		case op < 8:
			r := int32(2 + rng.IntN(2))
			// A follower only moves forward, to some offset it could have fetched by now.
			off := leo[r] + int64(rng.IntN(int(p.LogEndOffset()-leo[r])+1))
			off = max(off, 0)
			require.NoError(t, p.FollowerFetch(r, off))
			leo[r] = off
		case op < 9:
			c.Advance(time.Duration(rng.IntN(int(lag/time.Millisecond))) * time.Millisecond)
		default:
			p.MaybeShrinkISR()
		}
		hw, isr := p.HighWatermark(), p.ISR()
		require.GreaterOrEqual(t, hw, prevHW, "step %d: HW moved back", step)
		require.Contains(t, isr, int32(1), "step %d", step)
		require.LessOrEqual(t, hw, p.LogEndOffset(), "step %d", step)
		for _, r := range isr {
			if r != 1 && leo[r] < 0 {
				require.Zero(t, hw, "step %d: HW moved past its start while ISR member %d has never fetched", step, r)
			} else if r != 1 {
				require.LessOrEqual(t, hw, leo[r], "step %d: HW %d beyond ISR member %d's LEO %d", step, hw, r, leo[r])
			}
		}
		prevHW = hw
	}
}

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int16
	}{
		{nil, 0},
		{fmt.Errorf("x: %w", commitlog.ErrOffsetOutOfRange), 1},
		{recordbatch.ErrCRC, 2},
		{replication.ErrNotLeader, 6},
		{context.DeadlineExceeded, 7},
		{replication.ErrNotEnoughReplicas, 19},
		{replication.ErrNotEnoughReplicasAfterAppend, 20},
		{errors.New("disk on fire"), -1},
	} {
		assert.Equal(t, tc.want, replication.ErrorCode(tc.err), "%v", tc.err)
	}
}

// The two halves of an acks=all produce: the append returns at once with the offset to wait for,
// and the wait ends when the ISR has it.
func TestAppendNoWaitThenWaitForISR(t *testing.T) {
	ctx := context.Background()
	p, _ := newPartition(t, 2)
	base, next, err := p.AppendNoWait(batch(3), -1)
	require.NoError(t, err)
	assert.EqualValues(t, 0, base)
	assert.EqualValues(t, 3, next)
	_, next2, err := p.AppendNoWait(batch(1), -1) // not held up by the first one's wait
	require.NoError(t, err)
	assert.EqualValues(t, 4, next2)

	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, p.WaitForISR(wctx, next), context.DeadlineExceeded)
	require.NoError(t, p.FollowerFetch(2, 3))
	require.NoError(t, p.FollowerFetch(3, 3))
	require.NoError(t, p.WaitForISR(ctx, next))
	wctx2, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	require.ErrorIs(t, p.WaitForISR(wctx2, next2), context.DeadlineExceeded, "the second batch is not on the followers yet")
}
