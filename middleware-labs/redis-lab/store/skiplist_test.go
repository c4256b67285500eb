package store

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestZSetMatchesSortedSlice checks the skiplist against a sorted slice model after random
// adds, updates and removes, including rank lookups through the spans.
func TestZSetMatchesSortedSlice(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	z := NewZSet(rnd)
	model := map[string]float64{}
	for i := 0; i < 5000; i++ {
		m := "m" + strconv.Itoa(rnd.IntN(500))
		switch rnd.IntN(3) {
		case 0, 1:
			s := float64(rnd.IntN(100))
			z.Add(s, m)
			model[m] = s
		case 2:
			_, had := model[m]
			require.Equal(t, had, z.Remove(m))
			delete(model, m)
		}
	}
	want := make([]Member, 0, len(model))
	for m, s := range model {
		want = append(want, Member{m, s})
	}
	sort.Slice(want, func(i, j int) bool {
		return want[i].Score < want[j].Score || (want[i].Score == want[j].Score && want[i].Name < want[j].Name)
	})
	require.Equal(t, len(want), z.Len())
	require.Equal(t, want, z.RangeByRank(0, len(want)-1, false))
	for i := range want {
		require.Equal(t, want[i], z.RangeByRank(i, i, false)[0], "rank %d", i)
	}
	rev := z.RangeByRank(0, 9, true)
	for i := range rev {
		require.Equal(t, want[len(want)-1-i], rev[i])
	}
	var between []Member
	for _, m := range want {
		if m.Score > 10 && m.Score <= 20 {
			between = append(between, m)
		}
	}
	require.Equal(t, between, z.RangeByScore(10, 20, true, false, 0, -1))
	require.Equal(t, between[2:5], z.RangeByScore(10, 20, true, false, 2, 3))
}

// BenchmarkZSet measures ZADD of new members and a rank lookup on a 100k-member set.
func BenchmarkZSet(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	b.Run("op=add", func(b *testing.B) {
		z := NewZSet(rnd)
		for i := 0; i < b.N; i++ {
			z.Add(float64(rnd.IntN(1_000_000)), "m"+strconv.Itoa(i))
		}
	})
	b.Run("op=rank", func(b *testing.B) {
		z := NewZSet(rnd)
		for i := 0; i < 100_000; i++ {
			z.Add(float64(i), "m"+strconv.Itoa(i))
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			z.RangeByRank(i%100_000, i%100_000, false)
		}
	})
}
