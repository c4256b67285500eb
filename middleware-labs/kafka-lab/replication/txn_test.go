package replication_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

// txnBatch is a transactional data batch of n records from producer pid.
func txnBatch(pid int64, n int) []byte {
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Value: []byte("t"), Timestamp: 1}
	}
	return recordbatch.Build(recordbatch.Header{ProducerID: pid, Attributes: recordbatch.TransactionalBit}, recs)
}

func marker(pid int64, t recordbatch.ControlType) []byte {
	return recordbatch.BuildControl(pid, 0, t, 0, 1)
}

func TestLastStableOffset(t *testing.T) {
	ctx := context.Background()
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	p, err := replication.NewPartition(l, []int32{1}, 1, 1)
	require.NoError(t, err)
	steps := []struct {
		name        string
		batch       []byte
		wantLSO     int64
		wantAborted []replication.AbortedTxn
	}{
		{"plain batch: LSO follows HW", batch(2), 2, nil},                                                                                   // 0..1
		{"producer 5 opens a transaction", txnBatch(5, 2), 2, nil},                                                                          // 2..3
		{"a plain batch behind it is not readable yet", batch(1), 2, nil},                                                                   // 4
		{"producer 6 opens another", txnBatch(6, 1), 2, nil},                                                                                // 5
		{"5 commits: 6 still holds the LSO", marker(5, recordbatch.ControlCommit), 5, nil},                                                  // 6
		{"6 aborts: stable up to the end", marker(6, recordbatch.ControlAbort), 8, []replication.AbortedTxn{{6, 5, 7}}},                     // 7
		{"a marker for a transaction that wrote nothing here", marker(9, recordbatch.ControlAbort), 9, []replication.AbortedTxn{{6, 5, 7}}}, // 8
	}
	for _, st := range steps {
		_, err := p.AppendAsLeader(ctx, st.batch, -1)
		require.NoError(t, err, st.name)
		assert.Equal(t, st.wantLSO, p.LastStableOffset(), st.name)
		assert.Equal(t, st.wantAborted, p.AbortedTransactions(0, p.LogEndOffset()), st.name)
	}
	assert.Empty(t, p.AbortedTransactions(8, 9), "ended before the range")
	assert.Empty(t, p.AbortedTransactions(0, 5), "started after the range")
	assert.Len(t, p.AbortedTransactions(6, 7), 1)

	// The same state comes back from the log alone.
	p2, err := replication.NewPartition(l, []int32{1}, 1, 1, replication.WithHighWatermark(l.EndOffset()))
	require.NoError(t, err)
	assert.EqualValues(t, 9, p2.LastStableOffset())
	assert.Equal(t, []replication.AbortedTxn{{6, 5, 7}}, p2.AbortedTransactions(0, 9))
}

func TestReadStableStopsAtOpenTransaction(t *testing.T) {
	ctx := context.Background()
	l, err := commitlog.Open(t.TempDir(), commitlog.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	p, err := replication.NewPartition(l, []int32{1}, 1, 1)
	require.NoError(t, err)
	for _, b := range [][]byte{batch(1), txnBatch(3, 1), batch(1)} {
		_, err := p.AppendAsLeader(ctx, b, 1)
		require.NoError(t, err)
	}
	got, err := p.ReadStable(ctx, 0, 1<<20)
	require.NoError(t, err)
	parts, err := recordbatch.Split(got)
	require.NoError(t, err)
	assert.Len(t, parts, 1, "read_committed stops at the open transaction")
	got, err = p.ReadCommitted(ctx, 0, 1<<20)
	require.NoError(t, err)
	parts, err = recordbatch.Split(got)
	require.NoError(t, err)
	assert.Len(t, parts, 3, "read_uncommitted reads to HW")
}

// A marker the followers have not copied yet does not make its transaction stable: a new leader
// elected now might not have the marker.
func TestMarkerMustReachHW(t *testing.T) {
	ctx := context.Background()
	p, _ := newPartition(t, 1)
	_, err := p.AppendAsLeader(ctx, txnBatch(4, 2), 1) // 0..1
	require.NoError(t, err)
	for _, r := range []int32{2, 3} {
		require.NoError(t, p.FollowerFetch(r, 2))
	}
	_, err = p.AppendAsLeader(ctx, marker(4, recordbatch.ControlCommit), 1) // 2
	require.NoError(t, err)
	assert.EqualValues(t, 2, p.HighWatermark())
	assert.EqualValues(t, 0, p.LastStableOffset())
	for _, r := range []int32{2, 3} {
		require.NoError(t, p.FollowerFetch(r, 3))
	}
	assert.EqualValues(t, 3, p.LastStableOffset())
}
