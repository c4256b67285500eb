package commitlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// kiloBatch is a batch of n 1 KiB records, the message size the lab compares with JetStream.
func kiloBatch(n int) []byte {
	recs := make([]recordbatch.Record, n)
	value := make([]byte, 1024)
	for i := range recs {
		recs[i] = recordbatch.Record{Key: []byte("key"), Value: value, Timestamp: time.Now().UnixMilli()}
	}
	return recordbatch.Build(recordbatch.Header{}, recs)
}

// BenchmarkAppend appends batches of 1 KiB records under both fsync policies. msgs/s is records
// per second; with fsync per batch, the batch size is what buys throughput.
func BenchmarkAppend(b *testing.B) {
	for _, policy := range []commitlog.FsyncPolicy{commitlog.FsyncEveryBatch, commitlog.FsyncInterval} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("fsync=%s/records=%d", policy, n), func(b *testing.B) {
				l, err := commitlog.Open(b.TempDir(), commitlog.Options{Fsync: policy, SegmentBytes: 64 << 20, RetentionBytes: 256 << 20})
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = l.Close() }()
				batch := kiloBatch(n)
				b.SetBytes(int64(len(batch)))
				b.ResetTimer()
				for b.Loop() {
					if _, err := l.Append(batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkRead reads a log of 1 KiB records from start to end, 1 MiB a Fetch, as a consumer does.
func BenchmarkRead(b *testing.B) {
	l, err := commitlog.Open(b.TempDir(), commitlog.Options{Fsync: commitlog.FsyncInterval, SegmentBytes: 16 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	batch := kiloBatch(100)
	for range 200 { // 20,000 records, two segments
		if _, err := l.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	end := l.EndOffset()
	records := 0
	b.ResetTimer()
	for b.Loop() {
		for off := int64(0); off < end; {
			out, err := l.Read(ctx, off, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			for len(out) > 0 {
				h, err := recordbatch.ParseHeader(out)
				if err != nil {
					b.Fatal(err)
				}
				records += int(h.RecordCount)
				off = h.NextOffset()
				out = out[h.Size():]
			}
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendParallel is many producers on one partition with fsync per batch: what the
// broker sees under load. One fsync can cover every batch written before it started (group
// commit), so throughput grows with the number of producers instead of staying at one fsync per
// batch.
func BenchmarkAppendParallel(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			l, err := commitlog.Open(b.TempDir(), commitlog.Options{SegmentBytes: 64 << 20, RetentionBytes: 256 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = l.Close() }()
			batch := kiloBatch(10)
			b.SetBytes(int64(len(batch)))
			b.SetParallelism((producers + 1) / 2) // GOMAXPROCS is 2 here
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				own := append([]byte(nil), batch...) // Append rewrites the base offset in place
				for pb.Next() {
					if _, err := l.Append(own); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(10*b.N)/b.Elapsed().Seconds(), "msgs/s")
			st := l.Stats()
			b.ReportMetric(float64(st.Fsyncs)/float64(st.Appends), "fsyncs/batch")
		})
	}
}
