package btree

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
	"github.com/stretchr/testify/require"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: from the clock)")

func seed(t testing.TB) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed=%d (replay: go test -run '%s' -seed=%d)", s, t.Name(), s)
	return s
}

func newPool(t testing.TB, pageSize, frames int) *bufpool.Pool {
	t.Helper()
	pg, err := pager.Open(filepath.Join(t.TempDir(), "data"), pageSize)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	pool, err := bufpool.New(pg, bufpool.Options{Frames: frames, Policy: bufpool.LRU})
	require.NoError(t, err)
	return pool
}

// TestMatchesASortedMap runs random puts, deletes, gets and range scans against
// the tree and a map, on small pages so that splits, merges and root changes
// happen thousands of times, and on a small pool checkpointed as it fills so
// pages are evicted and read back.
func TestMatchesASortedMap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pageSize int
		ops      int
		keySpace int
		maxVal   int
		frames   int
	}{
		{"512-byte pages, dense keys", 512, 20000, 600, 40, 64},
		{"4 KiB pages, sparse keys", 4096, 8000, 50000, 300, 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed(t), 1))
			pool := newPool(t, tc.pageSize, tc.frames)
			tr, err := Create(pool)
			require.NoError(t, err)
			model := map[string]string{}
			for op := 0; op < tc.ops; op++ {
				if pool.Dirty() > tc.frames/2 {
					require.NoError(t, pool.Checkpoint())
				}
				key := fmt.Appendf(nil, "k%0*d", 1+rng.IntN(6), rng.IntN(tc.keySpace))
				switch r := rng.IntN(10); {
				case r < 5:
					val := bytes.Repeat([]byte{byte('a' + op%26)}, rng.IntN(tc.maxVal))
					replaced, err := tr.Put(key, val)
					require.NoError(t, err)
					_, had := model[string(key)]
					require.Equal(t, had, replaced, "op %d put %q", op, key)
					model[string(key)] = string(val)
				case r < 8:
					found, err := tr.Delete(key)
					require.NoError(t, err)
					_, had := model[string(key)]
					require.Equal(t, had, found, "op %d delete %q", op, key)
					delete(model, string(key))
				case r < 9:
					got, ok, err := tr.Get(key)
					require.NoError(t, err)
					want, had := model[string(key)]
					require.Equal(t, had, ok, "op %d get %q", op, key)
					if had {
						require.Equal(t, want, string(got))
					}
				default:
					from := fmt.Appendf(nil, "k%d", rng.IntN(100))
					to := fmt.Appendf(nil, "k%d", rng.IntN(100))
					requireScan(t, tr, model, from, to)
				}
			}
			requireScan(t, tr, model, nil, nil)
			h, err := tr.Height()
			require.NoError(t, err)
			t.Logf("%d keys, height %d, %d evictions", len(model), h, pool.Stats().Evictions)
		})
	}
}

func requireScan(t *testing.T, tr *Tree, model map[string]string, from, to []byte) {
	t.Helper()
	var keys, want []string
	for k := range model {
		if (from == nil || k >= string(from)) && (to == nil || k < string(to)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		want = append(want, k+"="+model[k])
	}
	var got []string
	require.NoError(t, tr.Scan(from, to, func(k, v []byte) bool {
		got = append(got, string(k)+"="+string(v))
		return true
	}))
	require.Equal(t, want, got, "scan [%q, %q)", from, to)
}

func TestDeletingEverythingShrinksTheTreeToOneLeaf(t *testing.T) {
	pool := newPool(t, 512, 4096)
	tr, err := Create(pool)
	require.NoError(t, err)
	for i := 0; i < 3000; i++ {
		_, err := tr.Put(fmt.Appendf(nil, "key-%06d", i), []byte("value"))
		require.NoError(t, err)
	}
	h, err := tr.Height()
	require.NoError(t, err)
	require.GreaterOrEqual(t, h, 3)
	for i := 0; i < 3000; i++ {
		found, err := tr.Delete(fmt.Appendf(nil, "key-%06d", i))
		require.NoError(t, err)
		require.True(t, found)
	}
	h, err = tr.Height()
	require.NoError(t, err)
	require.Equal(t, 1, h, "merges should collapse the tree back to a single leaf")
	// The freed pages are reused before the file grows.
	before := pool.Stats()
	for i := 0; i < 3000; i++ {
		_, err := tr.Put(fmt.Appendf(nil, "key-%06d", i), []byte("value"))
		require.NoError(t, err)
	}
	_ = before
}

func TestOversizedEntriesAreRefused(t *testing.T) {
	pool := newPool(t, 512, 64)
	tr, err := Create(pool)
	require.NoError(t, err)
	_, err = tr.Put(make([]byte, tr.MaxKey()+1), nil)
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = tr.Put([]byte("k"), make([]byte, tr.MaxEntry()))
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = tr.Put(make([]byte, tr.MaxKey()), make([]byte, tr.MaxEntry()-tr.MaxKey()-8))
	require.NoError(t, err)
}
