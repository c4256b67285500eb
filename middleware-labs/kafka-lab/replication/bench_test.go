package replication_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

// BenchmarkAppendAsLeader produces batches of 100 records of 1 KiB to a partition on three
// replicas whose followers run in process (LocalLeader), with acks=1 and acks=all, and with one
// replica alone for reference. Every log fsyncs every batch. The difference between acks=1 and
// acks=all is the wait for the followers' next fetch: the price of not losing acknowledged data.
func BenchmarkAppendAsLeader(b *testing.B) {
	recs := make([]recordbatch.Record, 100)
	for i := range recs {
		recs[i] = recordbatch.Record{Value: make([]byte, 1024), Timestamp: 1}
	}
	batch := recordbatch.Build(recordbatch.Header{}, recs)
	for _, tc := range []struct {
		replicas []int32
		acks     int16
	}{
		{[]int32{1}, -1},
		{[]int32{1, 2, 3}, 1},
		{[]int32{1, 2, 3}, -1},
	} {
		b.Run(fmt.Sprintf("replicas=%d/acks=%d", len(tc.replicas), tc.acks), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			open := func() *commitlog.Log {
				l, err := commitlog.Open(b.TempDir(), commitlog.Options{SegmentBytes: 64 << 20, RetentionBytes: 256 << 20})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = l.Close() })
				return l
			}
			p, err := replication.NewPartition(open(), tc.replicas, 1, 1)
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			for _, r := range tc.replicas[1:] {
				f := replication.NewFollower(open(), r, replication.LocalLeader{Partition: p, MaxWait: 100 * time.Millisecond}, nil, replication.WithRetryBackoff(time.Millisecond))
				wg.Go(func() { _ = f.Run(ctx) })
			}
			b.SetBytes(int64(len(batch)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.AppendAsLeader(ctx, batch, tc.acks); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
