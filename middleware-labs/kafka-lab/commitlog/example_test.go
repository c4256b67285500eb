package commitlog_test

import (
	"context"
	"fmt"
	"os"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// A partition's log: append batches, read from an offset, find an offset by time.
func Example() {
	dir, err := os.MkdirTemp("", "partition-0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()
	l, err := commitlog.Open(dir, commitlog.Options{SegmentBytes: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = l.Close() }()

	for i, ts := range []int64{1000, 2000, 3000} {
		batch := recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{
			{Key: []byte("order-7"), Value: fmt.Appendf(nil, "event %d", i), Timestamp: ts},
		})
		base, err := l.Append(batch)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("appended at offset", base)
	}
	b, err := l.Read(context.Background(), 1, 1<<20)
	if err != nil {
		fmt.Println(err)
		return
	}
	batches, _ := recordbatch.Split(b)
	for _, batch := range batches {
		recs, _ := recordbatch.Records(batch)
		for _, r := range recs {
			fmt.Printf("offset %d: %s\n", r.Offset, r.Value)
		}
	}
	off, _ := l.OffsetForTime(1500)
	fmt.Println("first offset at or after t=1500:", off)
	// Output:
	// appended at offset 0
	// appended at offset 1
	// appended at offset 2
	// offset 1: event 1
	// offset 2: event 2
	// first offset at or after t=1500: 1
}
