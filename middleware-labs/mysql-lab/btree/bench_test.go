package btree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	gbtree "github.com/google/btree"
)

// The B+tree beside github.com/google/btree (an in-memory B-tree) on the same
// keys: `go test -run '^$' -bench . ./btree` gives both in one run. The B+tree
// pays for pages — encoding, checksummed frames, a buffer pool lookup per
// level — which is the price of a structure that can live on disk.
const benchKeys = 100_000

type kv struct{ k, v []byte }

func benchData() [][]byte {
	rng := rand.New(rand.NewPCG(1, 1))
	keys := make([][]byte, benchKeys)
	for i, j := range rng.Perm(benchKeys) {
		keys[i] = fmt.Appendf(nil, "user:%010d", j)
	}
	return keys
}

var benchVal = []byte("0123456789abcdef")

func newBenchTree(b *testing.B) *Tree {
	b.Helper()
	pool := newPool(b, 4096, 4096)
	tr, err := Create(pool)
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

func lessKV(a, b kv) bool { return bytes.Compare(a.k, b.k) < 0 }

func BenchmarkInsert(b *testing.B) {
	keys := benchData()
	b.Run("impl=bplustree", func(b *testing.B) {
		var tr *Tree
		for i := 0; i < b.N; i++ {
			if i%benchKeys == 0 {
				b.StopTimer()
				tr = newBenchTree(b)
				b.StartTimer()
			}
			if _, err := tr.Put(keys[i%benchKeys], benchVal); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=google-btree", func(b *testing.B) {
		var tr *gbtree.BTreeG[kv]
		for i := 0; i < b.N; i++ {
			if i%benchKeys == 0 {
				tr = gbtree.NewG(32, lessKV)
			}
			tr.ReplaceOrInsert(kv{keys[i%benchKeys], benchVal})
		}
	})
}

func BenchmarkGet(b *testing.B) {
	keys := benchData()
	b.Run("impl=bplustree", func(b *testing.B) {
		tr := newBenchTree(b)
		for _, k := range keys {
			if _, err := tr.Put(k, benchVal); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok, err := tr.Get(keys[(i*7919)%benchKeys]); err != nil || !ok {
				b.Fatal("missing key", err)
			}
		}
	})
	b.Run("impl=google-btree", func(b *testing.B) {
		tr := gbtree.NewG(32, lessKV)
		for _, k := range keys {
			tr.ReplaceOrInsert(kv{k, benchVal})
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok := tr.Get(kv{k: keys[(i*7919)%benchKeys]}); !ok {
				b.Fatal("missing key")
			}
		}
	})
}

// BenchmarkRange reads 100 consecutive entries from a random start.
func BenchmarkRange(b *testing.B) {
	keys := benchData()
	const span = 100
	b.Run("impl=bplustree", func(b *testing.B) {
		tr := newBenchTree(b)
		for _, k := range keys {
			if _, err := tr.Put(k, benchVal); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n := 0
			err := tr.Scan(keys[(i*7919)%benchKeys], nil, func(_, _ []byte) bool { n++; return n < span })
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=google-btree", func(b *testing.B) {
		tr := gbtree.NewG(32, lessKV)
		for _, k := range keys {
			tr.ReplaceOrInsert(kv{k, benchVal})
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n := 0
			tr.AscendGreaterOrEqual(kv{k: keys[(i*7919)%benchKeys]}, func(kv) bool { n++; return n < span })
		}
	})
}
