package commitlog_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChild(dir) // the kill -9 test's child process; never returns
	}
	goleak.VerifyTestMain(m)
}

// batchOf builds a batch of n records whose values say which record they are (v-<first>-<i>), all
// stamped ts, so a test can tell from bytes read back which append they came from.
func batchOf(first int64, n int, ts int64) []byte {
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v-%d-%d", first, i), Timestamp: ts}
	}
	return recordbatch.Build(recordbatch.Header{}, recs)
}

// offsetsIn decodes every record in a read and returns their offsets.
func offsetsIn(t *testing.T, b []byte) []int64 {
	t.Helper()
	parts, err := recordbatch.Split(b)
	require.NoError(t, err)
	var out []int64
	for _, p := range parts {
		recs, err := recordbatch.Records(p)
		require.NoError(t, err)
		for _, r := range recs {
			require.Equal(t, fmt.Sprintf("v-%d-%d", r.Offset-int64(r.OffsetDelta), r.OffsetDelta), string(r.Value), "record at offset %d", r.Offset)
			out = append(out, r.Offset)
		}
	}
	return out
}

func openLog(t *testing.T, dir string, opts commitlog.Options) *commitlog.Log {
	t.Helper()
	l, err := commitlog.Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// fill appends batches of sizes n[i] and returns their base offsets.
func fill(t *testing.T, l *commitlog.Log, ts int64, n ...int) []int64 {
	t.Helper()
	var bases []int64
	for _, k := range n {
		next := l.EndOffset()
		base, err := l.Append(batchOf(next, k, ts))
		require.NoError(t, err)
		require.Equal(t, next, base)
		bases = append(bases, base)
	}
	return bases
}

func TestAppendRead(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, t.TempDir(), commitlog.Options{})
	bases := fill(t, l, 1000, 3, 1, 5)
	assert.Equal(t, []int64{0, 3, 4}, bases)
	assert.EqualValues(t, 0, l.StartOffset())
	assert.EqualValues(t, 9, l.EndOffset())

	for _, tc := range []struct {
		name     string
		offset   int64
		maxBytes int
		want     []int64
	}{
		{"from the start", 0, 1 << 20, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"mid batch returns the whole batch", 1, 1 << 20, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"a later batch", 3, 1 << 20, []int64{3, 4, 5, 6, 7, 8}},
		{"the last batch", 8, 1 << 20, []int64{4, 5, 6, 7, 8}},
		{"maxBytes below one batch still returns it", 0, 1, []int64{0, 1, 2}},
		{"at the end offset nothing", 9, 1 << 20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := l.Read(ctx, tc.offset, tc.maxBytes)
			require.NoError(t, err)
			assert.Equal(t, tc.want, offsetsIn(t, b))
		})
	}
	_, err := l.Read(ctx, 10, 100)
	require.ErrorIs(t, err, commitlog.ErrOffsetOutOfRange)
	_, err = l.Read(ctx, -1, 100)
	require.ErrorIs(t, err, commitlog.ErrOffsetOutOfRange)

	b, err := l.ReadBefore(ctx, 0, 4, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, []int64{0, 1, 2, 3}, offsetsIn(t, b), "batches wholly below the limit")
	b, err = l.ReadBefore(ctx, 0, 2, 1<<20)
	require.NoError(t, err)
	assert.Empty(t, b, "a batch straddling the limit is not returned")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.Read(cctx, 0, 100)
	require.ErrorIs(t, err, context.Canceled)
}

func TestAppendRejects(t *testing.T) {
	l := openLog(t, t.TempDir(), commitlog.Options{})
	good := batchOf(0, 2, 1)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"torn", good[:len(good)-1]},
		{"two batches", append(bytes.Clone(good), good...)},
		{"bad crc", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }()},
	} {
		_, err := l.Append(tc.b)
		require.Error(t, err, tc.name)
	}
	assert.EqualValues(t, 0, l.EndOffset(), "nothing was written")
}

func TestRollAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one := len(batchOf(90, 10, 1)) // the largest of the ten batches: values hold their offsets
	opts := commitlog.Options{SegmentBytes: int64(3 * one), IndexIntervalBytes: one - 20}
	l, err := commitlog.Open(dir, opts)
	require.NoError(t, err)
	for range 10 {
		fill(t, l, 1, 10)
	}
	segs := l.Segments()
	require.Len(t, segs, 4, "3 batches a segment")
	assert.Equal(t, []int64{0, 30, 60, 90}, []int64{segs[0].BaseOffset, segs[1].BaseOffset, segs[2].BaseOffset, segs[3].BaseOffset})
	assert.Equal(t, 3, segs[0].IndexEntries, "an entry every batch at this interval")
	for _, name := range []string{"00000000000000000000.log", "00000000000000000030.index", "00000000000000000090.timeindex"} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	for off := int64(0); off < 100; off += 7 {
		b, err := l.Read(ctx, off, one)
		require.NoError(t, err)
		got := offsetsIn(t, b)
		require.Contains(t, got, off)
	}
	require.NoError(t, l.Close())

	l = openLog(t, dir, opts)
	assert.EqualValues(t, 100, l.EndOffset())
	assert.Equal(t, commitlog.Recovery{Segments: 4, TruncatedAt: 100}, l.Recovery())
	assert.Equal(t, segs, l.Segments(), "indexes read back as written")
	fill(t, l, 1, 1)
	b, err := l.Read(ctx, 95, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, []int64{90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100}, offsetsIn(t, b))
}

func TestSparseIndexSkipsScanning(t *testing.T) {
	ctx := context.Background()
	one := len(batchOf(0, 1, 0))
	l := openLog(t, t.TempDir(), commitlog.Options{IndexIntervalBytes: 4 * one})
	for range 40 {
		fill(t, l, 1, 1)
	}
	assert.Equal(t, 10, l.Segments()[0].IndexEntries, "one entry per 4 batches")
	for off := int64(0); off < 40; off++ {
		b, err := l.Read(ctx, off, one)
		require.NoError(t, err)
		assert.Equal(t, []int64{off}, offsetsIn(t, b))
	}
}

func TestTornTailRecovery(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tail    func(next []byte) []byte
		cutWant int
	}{
		{"half a batch", func(b []byte) []byte { return b[:len(b)/2] }, -1},
		{"a header only", func(b []byte) []byte { return b[:recordbatch.HeaderSize] }, recordbatch.HeaderSize},
		{"a few bytes", func(b []byte) []byte { return b[:5] }, 5},
		{"a whole batch with a bad CRC", func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-1] ^= 0xff; return b }, -1},
		{"zeros, as after a preallocating filesystem", func(b []byte) []byte { return make([]byte, 4096) }, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			l, err := commitlog.Open(dir, commitlog.Options{})
			require.NoError(t, err)
			fill(t, l, 1, 3, 3)
			require.NoError(t, l.Close())

			next := batchOf(6, 4, 1)
			recordbatch.SetBaseOffset(next, 6)
			tail := tc.tail(next)
			f, err := os.OpenFile(filepath.Join(dir, "00000000000000000000.log"), os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write(tail)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			l = openLog(t, dir, commitlog.Options{})
			rec := l.Recovery()
			want := tc.cutWant
			if want < 0 {
				want = len(tail)
			}
			assert.EqualValues(t, want, rec.TruncatedCut)
			assert.EqualValues(t, 6, rec.TruncatedAt)
			assert.EqualValues(t, 6, l.EndOffset())
			b, err := l.Read(ctx, 0, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, []int64{0, 1, 2, 3, 4, 5}, offsetsIn(t, b))
			fill(t, l, 1, 2)
			b, err = l.Read(ctx, 6, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, []int64{6, 7}, offsetsIn(t, b), "appends continue after the cut")
		})
	}
}

func TestDamagedIndexIsRebuilt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one := len(batchOf(0, 1, 0))
	opts := commitlog.Options{SegmentBytes: int64(4 * one), IndexIntervalBytes: one}
	l, err := commitlog.Open(dir, opts)
	require.NoError(t, err)
	for range 8 {
		fill(t, l, 1, 1)
	}
	require.NoError(t, l.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000000.index"), []byte{1, 2, 3}, 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "00000000000000000000.timeindex")))

	l = openLog(t, dir, opts)
	assert.Equal(t, 4, l.Segments()[0].IndexEntries)
	assert.EqualValues(t, 1, l.Segments()[0].MaxTimestamp)
	for off := int64(0); off < 8; off++ {
		b, err := l.Read(ctx, off, one)
		require.NoError(t, err)
		assert.Equal(t, []int64{off}, offsetsIn(t, b))
	}
}

func TestOpenRefusesAGap(t *testing.T) {
	dir := t.TempDir()
	one := len(batchOf(0, 1, 0))
	opts := commitlog.Options{SegmentBytes: int64(2 * one)}
	l, err := commitlog.Open(dir, opts)
	require.NoError(t, err)
	for range 6 {
		fill(t, l, 1, 1)
	}
	require.NoError(t, l.Close())
	for _, suffix := range []string{".log", ".index", ".timeindex"} {
		require.NoError(t, os.Remove(filepath.Join(dir, "00000000000000000002"+suffix)))
	}
	_, err = commitlog.Open(dir, opts)
	require.ErrorContains(t, err, "ends at offset 2 but the next one starts at 4")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.log"), nil, 0o644))
	_, err = commitlog.Open(dir, opts)
	require.ErrorContains(t, err, "is not a segment")
}

func TestRetention(t *testing.T) {
	one := len(batchOf(0, 1, 0))
	now := time.UnixMilli(1_000_000)
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name      string
		opts      commitlog.Options
		advance   time.Duration
		wantStart int64
	}{
		{"no retention keeps all", commitlog.Options{}, time.Hour, 0},
		{"by size keeps the newest segments holding at least the limit", commitlog.Options{RetentionBytes: int64(5 * one)}, 0, 4},
		{"by age drops segments whose newest record is too old", commitlog.Options{RetentionAge: time.Minute}, 0, 6},
		{"by age, half a minute later", commitlog.Options{RetentionAge: time.Minute}, 30 * time.Second, 8},
		{"never the active segment", commitlog.Options{RetentionAge: time.Millisecond}, time.Hour, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = time.UnixMilli(1_000_000)
			tc.opts.SegmentBytes = int64(2 * one)
			tc.opts.Now = clock
			l := openLog(t, t.TempDir(), tc.opts)
			// 9 batches of one record, 2 a segment; record i is stamped i minutes after the start.
			for i := range 9 {
				_, err := l.Append(batchOf(int64(i), 1, now.Add(time.Duration(i)*time.Minute).UnixMilli()))
				require.NoError(t, err)
			}
			now = now.Add(8*time.Minute + tc.advance)
			_, err := l.ApplyRetention()
			require.NoError(t, err)
			assert.Equal(t, tc.wantStart, l.StartOffset())
			assert.EqualValues(t, 9, l.EndOffset())
			_, err = l.Read(context.Background(), tc.wantStart-1, 100)
			if tc.wantStart > 0 {
				require.ErrorIs(t, err, commitlog.ErrOffsetOutOfRange)
			}
			b, err := l.Read(context.Background(), tc.wantStart, 100)
			require.NoError(t, err)
			assert.NotEmpty(t, b)
		})
	}
}

func TestRetentionRunsOnRoll(t *testing.T) {
	one := len(batchOf(0, 1, 0))
	l := openLog(t, t.TempDir(), commitlog.Options{SegmentBytes: int64(one), RetentionBytes: int64(3 * one)})
	for range 20 {
		fill(t, l, 1, 1)
	}
	// Retention ran at the last roll, when the new active segment was still empty.
	assert.EqualValues(t, 16, l.StartOffset())
	assert.Len(t, l.Segments(), 4)
	n, err := l.ApplyRetention()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.EqualValues(t, 17, l.StartOffset())
	assert.Len(t, l.Segments(), 3)
}

func TestOffsetForTime(t *testing.T) {
	one := len(batchOf(0, 1, 0))
	l := openLog(t, t.TempDir(), commitlog.Options{SegmentBytes: int64(6 * one), IndexIntervalBytes: 2 * one})
	// Batch i holds one record stamped 100*i, except batch 5, stamped late (950), as a producer
	// with a skewed clock would: the time index stores the max so far, so lookups stay correct.
	for i := range 12 {
		ts := int64(100 * i)
		if i == 5 {
			ts = 950
		}
		_, err := l.Append(batchOf(int64(i), 1, ts))
		require.NoError(t, err)
	}
	// A batch of three records stamped 2000, 2010, 2020: the answer is a record inside it.
	b := recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{{Value: []byte("a"), Timestamp: 2000}, {Value: []byte("b"), Timestamp: 2010}, {Value: []byte("c"), Timestamp: 2020}})
	_, err := l.Append(b)
	require.NoError(t, err)
	for _, tc := range []struct {
		ts   int64
		want int64
	}{
		{0, 0}, {-5, 0}, {1, 1}, {100, 1}, {450, 5}, {500, 5}, {600, 5}, {950, 5}, {951, 10}, {1100, 11}, {1101, 12}, {2005, 13}, {2020, 14},
	} {
		got, err := l.OffsetForTime(tc.ts)
		require.NoError(t, err, "ts %d", tc.ts)
		assert.Equal(t, tc.want, got, "first offset with timestamp >= %d", tc.ts)
	}
	_, err = l.OffsetForTime(2021)
	require.ErrorIs(t, err, commitlog.ErrNoTimestamp)
}

func TestTruncateTo(t *testing.T) {
	ctx := context.Background()
	one := len(batchOf(0, 2, 0))
	for _, tc := range []struct {
		name    string
		to      int64
		wantEnd int64
	}{
		{"beyond the end is a no-op", 50, 20},
		{"at a batch boundary", 12, 12},
		{"mid batch drops the whole batch", 13, 12},
		{"at a segment boundary", 8, 8},
		{"to the start empties the log", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := commitlog.Options{SegmentBytes: int64(4 * one), IndexIntervalBytes: one}
			l := openLog(t, dir, opts)
			fill(t, l, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2) // segments at 0 and 8 and 16
			require.NoError(t, l.TruncateTo(tc.to))
			assert.Equal(t, tc.wantEnd, l.EndOffset())
			fill(t, l, 1, 3)
			b, err := l.Read(ctx, l.StartOffset(), 1<<20)
			require.NoError(t, err)
			assert.NotEmpty(t, offsetsIn(t, b))
			b, err = l.Read(ctx, tc.wantEnd, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, []int64{tc.wantEnd, tc.wantEnd + 1, tc.wantEnd + 2}, offsetsIn(t, b))
			require.NoError(t, l.Close())
			l2 := openLog(t, dir, opts)
			assert.Equal(t, tc.wantEnd+3, l2.EndOffset(), "survives a reopen")
			assert.Zero(t, l2.Recovery().TruncatedCut)
		})
	}
}

func TestTruncateBelowStartRestartsThere(t *testing.T) {
	one := len(batchOf(0, 1, 0))
	l := openLog(t, t.TempDir(), commitlog.Options{SegmentBytes: int64(one), RetentionBytes: int64(one)})
	fill(t, l, 1, 1, 1, 1, 1)
	require.EqualValues(t, 2, l.StartOffset())
	require.NoError(t, l.TruncateTo(1))
	assert.EqualValues(t, 1, l.StartOffset())
	assert.EqualValues(t, 1, l.EndOffset())
}

func TestWait(t *testing.T) {
	l := openLog(t, t.TempDir(), commitlog.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Wait(ctx, 0), context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background(), 0) }()
	fill(t, l, 1, 1)
	require.NoError(t, <-done)
	require.NoError(t, l.Wait(context.Background(), 0), "already beyond")

	go func() { done <- l.Wait(context.Background(), 5) }()
	require.NoError(t, l.Close())
	require.ErrorIs(t, <-done, commitlog.ErrClosed)
}

func TestFsyncIntervalAndClose(t *testing.T) {
	dir := t.TempDir()
	l, err := commitlog.Open(dir, commitlog.Options{Fsync: commitlog.FsyncInterval, FsyncInterval: time.Millisecond})
	require.NoError(t, err)
	fill(t, l, 1, 1, 1)
	time.Sleep(5 * time.Millisecond) // let the background sync run at least once
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close twice is fine")
	_, err = l.Append(batchOf(0, 1, 1))
	require.ErrorIs(t, err, commitlog.ErrClosed)
	_, err = l.Read(context.Background(), 0, 1)
	require.ErrorIs(t, err, commitlog.ErrClosed)
	_, err = commitlog.Open(dir, commitlog.Options{Fsync: 9})
	require.ErrorContains(t, err, "fsync policy")
}

func TestScan(t *testing.T) {
	l := openLog(t, t.TempDir(), commitlog.Options{})
	fill(t, l, 1, 2, 3, 4)
	var bases []int64
	require.NoError(t, l.Scan(context.Background(), 2, func(h recordbatch.Header, b []byte) error {
		require.NoError(t, recordbatch.Validate(b))
		bases = append(bases, h.BaseOffset)
		return nil
	}))
	assert.Equal(t, []int64{2, 5}, bases)
}

func TestConcurrentAppendRead(t *testing.T) {
	ctx := context.Background()
	one := len(batchOf(0, 5, 0))
	l := openLog(t, t.TempDir(), commitlog.Options{SegmentBytes: int64(20 * one), IndexIntervalBytes: 3 * one})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				_, err := l.Append(batchOf(0, 5, 1))
				assert.NoError(t, err)
			}
		})
	}
	wg.Go(func() {
		for off := int64(0); off < 1000; {
			if err := l.Wait(ctx, off); !assert.NoError(t, err) {
				return
			}
			b, err := l.Read(ctx, off, 4*one)
			if !assert.NoError(t, err) {
				return
			}
			parts, err := recordbatch.Split(b)
			if !assert.NoError(t, err) {
				return
			}
			for _, p := range parts {
				h, _ := recordbatch.ParseHeader(p)
				if !assert.Equal(t, off, h.BaseOffset) {
					return
				}
				off = h.NextOffset()
			}
		}
	})
	wg.Wait()
	assert.EqualValues(t, 1000, l.EndOffset())
}

// A slow topic never fills a segment; SegmentAge rolls it so that retention by age can act.
func TestSegmentAgeRollsForRetention(t *testing.T) {
	now := time.UnixMilli(5_000_000)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	l := openLog(t, t.TempDir(), commitlog.Options{SegmentAge: time.Hour, RetentionAge: 2 * time.Hour, Now: clock,
		RetentionCheckInterval: time.Millisecond})
	for i := range 6 {
		_, err := l.Append(batchOf(int64(i), 1, clock().UnixMilli()))
		require.NoError(t, err)
		advance(40 * time.Minute)
	}
	// Records at 0, 40, 80, 120, 160, 200 minutes; a segment is rolled once it is an hour old.
	segs := l.Segments()
	assert.Greater(t, len(segs), 1, "rolled by age, not size")
	advance(3 * time.Hour)
	// The background check deletes every segment but the active one.
	assert.Eventually(t, func() bool { return len(l.Segments()) == 1 }, 2*time.Second, time.Millisecond)
	assert.Positive(t, l.StartOffset())
}

// Appenders that arrive while an fsync runs share the next one; a lone appender fsyncs every batch.
func TestGroupCommitCountsFsyncs(t *testing.T) {
	l := openLog(t, t.TempDir(), commitlog.Options{})
	fill(t, l, 1, 1, 1, 1)
	assert.Equal(t, commitlog.Stats{Appends: 3, Fsyncs: 3}, l.Stats(), "one appender: an fsync per batch")

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				_, err := l.Append(batchOf(0, 1, 1))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	st := l.Stats()
	assert.EqualValues(t, 203, st.Appends)
	assert.LessOrEqual(t, st.Fsyncs, st.Appends, "never more fsyncs than batches")
	t.Logf("8 appenders: %d fsyncs for %d batches", st.Fsyncs-3, st.Appends-3)
}

func TestAppendReplicas(t *testing.T) {
	leader := openLog(t, t.TempDir(), commitlog.Options{})
	fill(t, leader, 1, 2, 3, 1)
	set, err := leader.Read(context.Background(), 0, 1<<20)
	require.NoError(t, err)

	l := openLog(t, t.TempDir(), commitlog.Options{})
	n, err := l.AppendReplicas(set)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, commitlog.Stats{Appends: 3, Fsyncs: 1}, l.Stats(), "one fsync for the whole fetch")
	n, err = l.AppendReplicas(set)
	require.NoError(t, err)
	assert.Zero(t, n, "batches it already has are skipped")

	other := openLog(t, t.TempDir(), commitlog.Options{})
	fill(t, other, 1, 1)
	_, err = other.AppendReplicas(set[len(batchOf(0, 2, 1)):]) // starts at offset 2, log ends at 1
	require.ErrorIs(t, err, commitlog.ErrOffsetMismatch)
	_, err = other.AppendReplicas(set[:10])
	require.ErrorIs(t, err, recordbatch.ErrShort)
	got, err := l.Read(context.Background(), 0, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, set, got, "byte for byte")
}
