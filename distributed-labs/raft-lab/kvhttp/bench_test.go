package kvhttp_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
)

// BenchmarkPut is one KV write through the HTTP API and the log, on each
// backend side by side (in-process transports, in-memory storage: this
// compares the Raft code paths, not disks; scripts/etcd-compare.sh measures
// the fsynced clusters).
func BenchmarkPut(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			c := startClusterB(b, be)
			ctx := context.Background()
			var clients atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// One client per writer: a client has one write in flight.
				cl := kvhttp.NewClient("bench"+strconv.FormatInt(clients.Add(1), 10), c.addrs, time.Second)
				defer cl.Close()
				i := 0
				for pb.Next() {
					i++
					if _, err := cl.Put(ctx, "k"+strconv.Itoa(i%1024), "v"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkLinearRead is one linearizable GET: ReadIndex on the own Raft,
// Barrier + read + VerifyLeader on hashicorp/raft.
func BenchmarkLinearRead(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			c := startClusterB(b, be)
			cl := kvhttp.NewClient("bench", c.addrs, time.Second)
			defer cl.Close()
			ctx := context.Background()
			if _, err := cl.Put(ctx, "k", "v"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := cl.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
