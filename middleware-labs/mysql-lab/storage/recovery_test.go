package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/wal"
	"github.com/stretchr/testify/require"
)

// crashedWithLog leaves dir as a crash would after commits records of one put
// each (distinct keys, valSize-byte values) were logged and fsynced but no
// checkpoint ran: everything is in the redo log, nothing in the data file.
// It returns the log's size in bytes.
func crashedWithLog(t testing.TB, dir string, opts Options, commits, distinct, valSize int) int64 {
	t.Helper()
	opts.Dir = dir
	e, err := Open(context.Background(), opts)
	require.NoError(t, err)
	require.NoError(t, e.CreateTree("t"))
	require.NoError(t, e.Close())

	l, err := wal.Open(filepath.Join(dir, "redo"))
	require.NoError(t, err)
	val := make([]byte, valSize)
	var lsn uint64
	for i := 0; i < commits; i++ {
		k := fmt.Appendf(nil, "row:%08d", (i*7919)%distinct)
		copy(val, k)
		lsn, err = l.Append(encodeRecord(record{kind: recCommit, txn: uint64(i + 1), ops: []op{{kind: opPut, tree: "t", key: k, val: val}}}))
		require.NoError(t, err)
	}
	require.NoError(t, l.Sync(context.Background(), lsn))
	size, err := l.Size()
	require.NoError(t, err)
	require.NoError(t, l.Close())
	return size
}

func TestRecoveryReplaysAnUncheckpointedLog(t *testing.T) {
	dir := t.TempDir()
	opts := Options{PageSize: 4096, PoolFrames: 64}
	size := crashedWithLog(t, dir, opts, 3000, 1000, 200)
	opts.Dir = dir
	e, err := Open(context.Background(), opts)
	require.NoError(t, err)
	defer e.Close()
	st := e.Stats()
	require.Equal(t, uint64(3000), st.RecoveredRecords)
	require.Greater(t, st.Checkpoints, uint64(1), "a 64-frame pool must checkpoint during replay")
	n, err := e.TreeLen("t")
	require.NoError(t, err)
	require.Equal(t, int64(1000), n)
	v, ok, err := e.Begin().Get(context.Background(), "t", []byte("row:00000007"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "row:00000007", string(v[:12]))
	t.Logf("replayed %d records (%d KiB of log) in %v", st.RecoveredRecords, size>>10, st.RecoveryTime)
}

// BenchmarkRecovery100MB measures Open after a crash that left ~100 MB of
// redo (100,000 commits of a 1 KiB row over 20,000 rows) and no checkpoint:
//
//	go test -run '^$' -bench Recovery100MB -benchtime 1x ./storage
func BenchmarkRecovery100MB(b *testing.B) {
	if testing.Short() {
		b.Skip("writes 100 MB")
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		size := crashedWithLog(b, dir, Options{}, 100_000, 20_000, 1024)
		b.StartTimer()
		e, err := Open(context.Background(), Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st := e.Stats()
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/1e6, "MB-of-redo")
		b.ReportMetric(st.RecoveryTime.Seconds(), "s-to-recover")
		b.ReportMetric(float64(st.RecoveredRecords)/st.RecoveryTime.Seconds(), "records/s")
		b.StartTimer()
	}
}
