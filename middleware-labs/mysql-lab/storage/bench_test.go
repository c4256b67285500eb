package storage

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkPointGet is sysbench's oltp_point_select at the engine: one Get
// by primary key on a 10,000-row table that fits the pool, from parallel
// goroutines, each with its own transaction.
func BenchmarkPointGet(b *testing.B) {
	ctx := context.Background()
	e, err := Open(ctx, Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := e.CreateTree("sbtest1"); err != nil {
		b.Fatal(err)
	}
	const rows = 10_000
	tx := e.Begin()
	val := make([]byte, 180) // sysbench's c and pad columns
	for i := 0; i < rows; i++ {
		if err := tx.Put(ctx, "sbtest1", fmt.Appendf(nil, "%08d", i), val); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := e.Begin()
		defer func() { _ = r.Rollback() }()
		i := 0
		for pb.Next() {
			i = (i + 7919) % rows
			if _, ok, err := r.Get(ctx, "sbtest1", fmt.Appendf(nil, "%08d", i)); err != nil || !ok {
				b.Fatal("missing row", err)
			}
		}
	})
}

// BenchmarkCommit is one single-row commit, fsync included, from parallel
// goroutines: group commit shares fsyncs among them (commits/fsync).
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	e, err := Open(ctx, Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := e.CreateTree("t"); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	var n atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tx := e.Begin()
			k := fmt.Appendf(nil, "%016d", n.Add(1))
			if err := tx.Put(ctx, "t", k, []byte("v")); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	st := e.Stats()
	b.ReportMetric(float64(st.Commits)/float64(max(st.Fsyncs, 1)), "commits/fsync")
}
