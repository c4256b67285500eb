package lru

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time          { return f.t }
func (f *fakeClock) advance(d time.Duration) { f.t = f.t.Add(d) }

func TestNewRejectsBadCapacity(t *testing.T) {
	for _, capacity := range []int{0, -1} {
		_, err := New[int, int](capacity)
		require.ErrorIs(t, err, ErrCapacity)
	}
}

func TestOperations(t *testing.T) {
	type op struct {
		kind  string // put, get, remove
		key   int
		want  bool // get/remove: hit expected
		value int
	}
	tests := []struct {
		name     string
		capacity int
		ops      []op
		keys     []int // most to least recent at the end
	}{
		{"evicts least recent", 2, []op{{"put", 1, false, 1}, {"put", 2, false, 2}, {"put", 3, false, 3}, {"get", 1, false, 0}}, []int{3, 2}},
		{"get refreshes recency", 2, []op{{"put", 1, false, 1}, {"put", 2, false, 2}, {"get", 1, true, 1}, {"put", 3, false, 3}, {"get", 2, false, 0}}, []int{3, 1}},
		{"overwrite keeps size", 2, []op{{"put", 1, false, 1}, {"put", 1, false, 9}, {"get", 1, true, 9}}, []int{1}},
		{"remove", 3, []op{{"put", 1, false, 1}, {"remove", 1, true, 0}, {"remove", 1, false, 0}, {"get", 1, false, 0}}, []int{}},
		{"capacity one", 1, []op{{"put", 1, false, 1}, {"put", 2, false, 2}, {"get", 2, true, 2}, {"get", 1, false, 0}}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New[int, int](tt.capacity)
			require.NoError(t, err)
			for i, o := range tt.ops {
				switch o.kind {
				case "put":
					c.Put(o.key, o.value)
				case "get":
					v, ok := c.Get(o.key)
					assert.Equal(t, o.want, ok, "op %d", i)
					if ok {
						assert.Equal(t, o.value, v, "op %d", i)
					}
				case "remove":
					assert.Equal(t, o.want, c.Remove(o.key), "op %d", i)
				}
			}
			assert.Equal(t, tt.keys, c.Keys())
		})
	}
}

func TestTTLAndCallbacks(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	type ev struct {
		k   string
		why Reason
	}
	var got []ev
	c, err := New[string, int](2,
		WithTTL[string, int](time.Second),
		WithClock[string, int](clk.now),
		WithOnEvict[string, int](func(k string, _ int, why Reason) { got = append(got, ev{k, why}) }))
	require.NoError(t, err)

	c.Put("a", 1)
	c.PutWithTTL("b", 2, 0) // never expires
	clk.advance(999 * time.Millisecond)
	_, ok := c.Get("a")
	assert.True(t, ok, "still fresh 1ms before expiry")
	clk.advance(time.Millisecond)
	_, ok = c.Get("a")
	assert.False(t, ok, "expired exactly at TTL")
	_, ok = c.Peek("b")
	assert.True(t, ok)
	c.Put("c", 3)
	c.Put("d", 4) // evicts b (least recent)
	c.Remove("c")
	c.Purge()
	assert.Equal(t, []ev{{"a", Expired}, {"b", Evicted}, {"c", Removed}, {"d", Removed}}, got)
	assert.Equal(t, 0, c.Len())
	assert.Equal(t, "expired", Expired.String())
}

func TestCallbackMayReenter(t *testing.T) {
	var c *Cache[int, int]
	c, _ = New[int, int](1, WithOnEvict[int, int](func(k, v int, _ Reason) { _ = c.Len() }))
	c.Put(1, 1)
	c.Put(2, 2) // would deadlock if the callback ran under the lock
	assert.Equal(t, 1, c.Len())
}

func TestConcurrentUse(t *testing.T) {
	c, _ := New[int, int](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 5000 {
				k := r.IntN(128)
				if v, ok := c.Get(k); ok && v != k {
					t.Errorf("key %d has value %d", k, v)
					return
				}
				c.Put(k, k)
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 64)
}

// model is the obviously-correct LRU: a slice ordered from most to least recent.
type model struct {
	cap  int
	keys []uint8
	vals map[uint8]uint8
}

func (m *model) get(k uint8) (uint8, bool) {
	i := slices.Index(m.keys, k)
	if i < 0 {
		return 0, false
	}
	m.keys = append([]uint8{k}, slices.Delete(m.keys, i, i+1)...)
	return m.vals[k], true
}

func (m *model) put(k, v uint8) {
	if i := slices.Index(m.keys, k); i >= 0 {
		m.keys = slices.Delete(m.keys, i, i+1)
	} else if len(m.keys) == m.cap {
		delete(m.vals, m.keys[len(m.keys)-1])
		m.keys = m.keys[:len(m.keys)-1]
	}
	m.keys = append([]uint8{k}, m.keys...)
	m.vals[k] = v
}

func (m *model) remove(k uint8) bool {
	i := slices.Index(m.keys, k)
	if i < 0 {
		return false
	}
	m.keys = slices.Delete(m.keys, i, i+1)
	delete(m.vals, k)
	return true
}

// checkAgainstModel replays ops (3 bytes each: op, key, value) on the cache and the model.
func checkAgainstModel(t *testing.T, capacity int, ops []byte) {
	t.Helper()
	c, err := New[uint8, uint8](capacity)
	require.NoError(t, err)
	m := &model{cap: capacity, vals: map[uint8]uint8{}}
	for i := 0; i+2 < len(ops); i += 3 {
		k, v := ops[i+1]%16, ops[i+2]
		switch ops[i] % 3 {
		case 0:
			c.Put(k, v)
			m.put(k, v)
		case 1:
			gv, gok := c.Get(k)
			mv, mok := m.get(k)
			require.Equal(t, mok, gok, "get %d at op %d", k, i/3)
			require.Equal(t, mv, gv, "get %d at op %d", k, i/3)
		case 2:
			require.Equal(t, m.remove(k), c.Remove(k), "remove %d at op %d", k, i/3)
		}
		require.Equal(t, append([]uint8{}, m.keys...), c.Keys(), "order after op %d", i/3)
	}
}

// TestMatchesModel is the property test: random operation sequences agree with the model.
func TestMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	for range 300 {
		ops := make([]byte, 3*r.IntN(200))
		for i := range ops {
			ops[i] = byte(r.UintN(256))
		}
		checkAgainstModel(t, 1+r.IntN(8), ops)
	}
}

func FuzzMatchesModel(f *testing.F) {
	f.Add(uint8(2), []byte{0, 1, 1, 0, 2, 2, 0, 3, 3, 1, 1, 0})
	f.Add(uint8(1), []byte{0, 5, 5, 2, 5, 0, 1, 5, 0})
	f.Add(uint8(4), []byte{0, 1, 1, 0, 2, 2, 1, 1, 0, 0, 3, 3, 0, 4, 4, 0, 5, 5, 1, 2, 0})
	f.Fuzz(func(t *testing.T, capacity uint8, ops []byte) {
		checkAgainstModel(t, 1+int(capacity%16), ops)
	})
}
