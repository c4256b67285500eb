package replication_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

// A leader on broker 1 with followers 2 and 3, min.insync.replicas=2: the high watermark moves
// only as far as every in-sync replica has fetched.
func Example() {
	dir, err := os.MkdirTemp("", "replication")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()
	var logs []*commitlog.Log
	for i := range 3 {
		l, err := commitlog.Open(filepath.Join(dir, fmt.Sprint(i+1)), commitlog.Options{})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer func() { _ = l.Close() }()
		logs = append(logs, l)
	}
	leader, err := replication.NewPartition(logs[0], []int32{1, 2, 3}, 1, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	f2 := replication.NewFollower(logs[1], 2, replication.LocalLeader{Partition: leader}, nil)
	f3 := replication.NewFollower(logs[2], 3, replication.LocalLeader{Partition: leader}, nil)

	batch := recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{{Value: []byte("hello")}})
	if _, err := leader.AppendAsLeader(ctx, batch, 1); err != nil { // acks=1: the leader alone
		fmt.Println(err)
		return
	}
	fmt.Println("after acks=1 append: HW", leader.HighWatermark(), "LEO", leader.LogEndOffset())
	_, _ = f2.FetchOnce(ctx) // copies the batch
	_, _ = f2.FetchOnce(ctx) // tells the leader it has it
	fmt.Println("after follower 2 caught up: HW", leader.HighWatermark())
	_, _ = f3.FetchOnce(ctx)
	_, _ = f3.FetchOnce(ctx)
	fmt.Println("after follower 3 caught up: HW", leader.HighWatermark(), "ISR", leader.ISR())

	_, err = leader.AppendAsLeader(ctx, batch, 7)
	fmt.Println("acks=7:", errors.Is(err, replication.ErrInvalidRequiredAcks), replication.ErrorCode(err))
	// Output:
	// after acks=1 append: HW 0 LEO 1
	// after follower 2 caught up: HW 0
	// after follower 3 caught up: HW 1 ISR [1 2 3]
	// acks=7: true 21
}
