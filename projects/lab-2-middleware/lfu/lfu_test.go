package lfu

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRejectsBadCapacity(t *testing.T) {
	_, err := New[int, int](0)
	require.ErrorIs(t, err, ErrCapacity)
}

func TestEvictionOrder(t *testing.T) {
	tests := []struct {
		name       string
		capacity   int
		puts, gets []int
		insert     int
		victim     int
	}{
		{"lowest count goes", 3, []int{1, 2, 3}, []int{1, 1, 3}, 4, 2},
		{"tie broken by recency", 3, []int{1, 2, 3}, []int{}, 4, 1},
		{"tie among hit keys", 3, []int{1, 2, 3}, []int{2, 1, 3}, 4, 2},
		{"new key is the next victim", 2, []int{1, 2}, []int{1, 2}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New[int, int](tt.capacity)
			require.NoError(t, err)
			for _, k := range tt.puts {
				c.Put(k, k)
			}
			for _, k := range tt.gets {
				_, ok := c.Get(k)
				require.True(t, ok)
			}
			v, ok := c.Victim()
			require.True(t, ok)
			assert.Equal(t, tt.victim, v)
			c.Put(tt.insert, tt.insert)
			_, ok = c.Get(tt.victim)
			assert.False(t, ok)
			assert.Equal(t, tt.capacity, c.Len())
		})
	}
}

func TestFrequencyTTLCallbacks(t *testing.T) {
	now := time.Unix(0, 0)
	var reasons []Reason
	c, _ := New[string, int](2,
		WithTTL[string, int](time.Second),
		WithClock[string, int](func() time.Time { return now }),
		WithOnEvict[string, int](func(_ string, _ int, r Reason) { reasons = append(reasons, r) }))
	c.Put("a", 1)
	c.Get("a")
	c.Get("a")
	assert.Equal(t, uint64(3), c.Frequency("a"))
	now = now.Add(time.Second)
	_, ok := c.Get("a")
	assert.False(t, ok)
	assert.Equal(t, uint64(0), c.Frequency("a"))
	c.Put("b", 1)
	c.Put("c", 1)
	c.Put("d", 1)
	assert.True(t, c.Remove("d"))
	assert.False(t, c.Remove("zz"))
	assert.Equal(t, []Reason{Expired, Evicted, Removed}, reasons)
}

func TestConcurrentUse(t *testing.T) {
	c, _ := New[int, int](32)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for range 5000 {
				k := r.IntN(100)
				if v, ok := c.Get(k); ok && v != k {
					t.Errorf("key %d has value %d", k, v)
					return
				}
				c.Put(k, k)
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 32)
}

// model evicts the key with the lowest (count, last use) pair by linear scan.
type model struct {
	cap   int
	clock int
	freq  map[uint8]uint64
	last  map[uint8]int
	vals  map[uint8]uint8
}

func (m *model) use(k uint8) { m.clock++; m.freq[k]++; m.last[k] = m.clock }

func (m *model) victim() uint8 {
	var best uint8
	first := true
	for k := range m.vals {
		if first || m.freq[k] < m.freq[best] || (m.freq[k] == m.freq[best] && m.last[k] < m.last[best]) {
			best, first = k, false
		}
	}
	return best
}

func (m *model) drop(k uint8) { delete(m.vals, k); delete(m.freq, k); delete(m.last, k) }

func checkAgainstModel(t *testing.T, capacity int, ops []byte) {
	t.Helper()
	c, err := New[uint8, uint8](capacity)
	require.NoError(t, err)
	m := &model{cap: capacity, freq: map[uint8]uint64{}, last: map[uint8]int{}, vals: map[uint8]uint8{}}
	for i := 0; i+2 < len(ops); i += 3 {
		k, v := ops[i+1]%16, ops[i+2]
		switch ops[i] % 3 {
		case 0:
			if _, ok := m.vals[k]; !ok && len(m.vals) == m.cap {
				want := m.victim()
				got, _ := c.Victim()
				require.Equal(t, want, got, "victim before op %d", i/3)
				m.drop(want)
			}
			m.vals[k] = v
			m.use(k)
			c.Put(k, v)
		case 1:
			gv, gok := c.Get(k)
			mv, mok := m.vals[k]
			require.Equal(t, mok, gok, "get %d at op %d", k, i/3)
			require.Equal(t, mv, gv)
			if mok {
				m.use(k)
			}
		case 2:
			_, mok := m.vals[k]
			m.drop(k)
			require.Equal(t, mok, c.Remove(k))
		}
		require.Equal(t, len(m.vals), c.Len())
		for k := range m.vals {
			require.Equal(t, m.freq[k], c.Frequency(k), "count of %d after op %d", k, i/3)
		}
	}
}

func TestMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 42))
	for range 300 {
		ops := make([]byte, 3*r.IntN(200))
		for i := range ops {
			ops[i] = byte(r.UintN(256))
		}
		checkAgainstModel(t, 1+r.IntN(8), ops)
	}
}

func FuzzMatchesModel(f *testing.F) {
	f.Add(uint8(2), []byte{0, 1, 1, 0, 2, 2, 1, 1, 0, 0, 3, 3})
	f.Add(uint8(3), []byte{0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 2, 2, 0, 3, 3, 0, 4, 4, 2, 1, 0})
	f.Fuzz(func(t *testing.T, capacity uint8, ops []byte) {
		checkAgainstModel(t, 1+int(capacity%16), ops)
	})
}
