package wal

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func replayAll(t *testing.T, l *Log, from uint64) []string {
	t.Helper()
	var got []string
	require.NoError(t, l.Replay(from, func(lsn uint64, p []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", lsn, p))
		return nil
	}))
	return got
}

func TestAppendSyncReplayAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		lsn, err := l.Append(fmt.Appendf(nil, "rec%d", i))
		require.NoError(t, err)
		require.NoError(t, l.Sync(context.Background(), lsn))
	}
	require.NoError(t, l.Close())
	l, err = Open(dir)
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, []string{"1:rec0", "2:rec1", "3:rec2"}, replayAll(t, l, 1))
	require.Equal(t, []string{"3:rec2"}, replayAll(t, l, 3))
	lsn, err := l.Append([]byte("rec3"))
	require.NoError(t, err)
	require.Equal(t, uint64(4), lsn)
}

// A crash mid-write leaves part of a record, or garbage, at the end of the last
// segment. Open cuts it off; the records before it survive and the next one
// follows them.
func TestTornTailIsCutOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(path string, size int64) error
	}{
		{"half a record", func(p string, size int64) error { return os.Truncate(p, size-5) }},
		{"garbage appended", func(p string, _ int64) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			_, err = f.Write([]byte("\x10\x00\x00\x00garbage-garbage!"))
			_ = f.Close()
			return err
		}},
		{"flipped byte in the last record", func(p string, size int64) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteAt([]byte{0xff}, size-2)
			_ = f.Close()
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := Open(dir)
			require.NoError(t, err)
			for i := 0; i < 3; i++ {
				_, err := l.Append(fmt.Appendf(nil, "rec%d", i))
				require.NoError(t, err)
			}
			require.NoError(t, l.Close())
			st, err := os.Stat(segPath(dir, 1))
			require.NoError(t, err)
			require.NoError(t, tc.tear(segPath(dir, 1), st.Size()))

			l, err = Open(dir)
			require.NoError(t, err)
			defer l.Close()
			want := []string{"1:rec0", "2:rec1"}
			if tc.name == "garbage appended" {
				want = append(want, "3:rec2")
			}
			require.Equal(t, want, replayAll(t, l, 1))
			lsn, err := l.Append([]byte("after"))
			require.NoError(t, err)
			require.Equal(t, uint64(len(want)+1), lsn)
			require.NoError(t, l.Sync(context.Background(), lsn))
			require.Equal(t, append(want, fmt.Sprintf("%d:after", lsn)), replayAll(t, l, 1))
		})
	}
}

// Many committers at once share fsyncs.
func TestGroupCommitSharesFsyncs(t *testing.T) {
	l, err := Open(t.TempDir())
	require.NoError(t, err)
	defer l.Close()
	const writers, each = 16, 20
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				lsn, err := l.Append([]byte("commit"))
				if err == nil {
					err = l.Sync(context.Background(), lsn)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	appends, fsyncs := l.Counts()
	t.Logf("%d commits, %d fsyncs: %.1f commits per fsync", appends, fsyncs, float64(appends)/float64(fsyncs))
	require.Equal(t, uint64(writers*each), appends)
	require.Less(t, fsyncs, appends, "concurrent commits should share fsyncs")
}

func TestTruncateDropsCheckpointedSegments(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	require.NoError(t, err)
	defer l.Close()
	for i := 0; i < 5; i++ {
		_, err := l.Append(fmt.Appendf(nil, "a%d", i))
		require.NoError(t, err)
	}
	require.NoError(t, l.Truncate(4)) // 1..3 checkpointed; 4, 5 still needed
	for i := 0; i < 2; i++ {
		_, err := l.Append(fmt.Appendf(nil, "b%d", i))
		require.NoError(t, err)
	}
	require.Equal(t, []string{"4:a3", "5:a4", "6:b0", "7:b1"}, replayAll(t, l, 4))
	require.NoError(t, l.Truncate(8))
	segs, err := segments(dir)
	require.NoError(t, err)
	require.Equal(t, []uint64{8}, segs)
	require.Empty(t, replayAll(t, l, 8))
}

// FuzzOpenReplay hands Open a segment of arbitrary bytes, as a damaged disk
// would: Open cuts what is not an intact record, Replay returns what is, and
// neither panics nor allocates past MaxRecord.
func FuzzOpenReplay(f *testing.F) {
	good := func() []byte {
		dir := f.TempDir()
		l, err := Open(dir)
		require.NoError(f, err)
		for i := 0; i < 3; i++ {
			_, err := l.Append(fmt.Appendf(nil, "record %d", i))
			require.NoError(f, err)
		}
		require.NoError(f, l.Close())
		b, err := os.ReadFile(segPath(dir, 1))
		require.NoError(f, err)
		return b
	}()
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte("\xff\xff\xff\xff garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(segPath(dir, 1), b, 0o644))
		l, err := Open(dir)
		if err != nil {
			return
		}
		defer l.Close()
		n := 0
		require.NoError(t, l.Replay(1, func(uint64, []byte) error { n++; return nil }))
		require.Equal(t, l.Next()-1, uint64(n), "Next follows the intact records")
	})
}
