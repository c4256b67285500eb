package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) Now() time.Time          { return f.t }
func (f *fakeClock) Advance(d time.Duration) { f.t = f.t.Add(d) }

func str(s string) *Value { return &Value{Kind: KindString, Str: []byte(s)} }

func TestLazyExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	db := New(clk.Now, 1)
	var removed []string
	db.OnRemove = func(k string) { removed = append(removed, k) }
	db.Set("k", str("v"), false)
	db.SetExpire("k", clk.Now().Add(time.Second).UnixMilli())
	require.NotNil(t, db.Lookup("k"))
	clk.Advance(999 * time.Millisecond)
	require.NotNil(t, db.Lookup("k"))
	clk.Advance(time.Millisecond)
	assert.Nil(t, db.Lookup("k"))
	assert.Equal(t, []string{"k"}, removed)
	assert.Equal(t, 0, db.Len())
	assert.Equal(t, int64(1), db.Stats.ExpiredKeys)
	assert.Equal(t, int64(0), db.UsedMemory())
}

func TestActiveExpireRepeatsWhileMostlyExpired(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	db := New(clk.Now, 1)
	for i := 0; i < 1000; i++ {
		k := "k" + strconv.Itoa(i)
		db.Set(k, str("v"), false)
		ttl := time.Second
		if i%10 == 0 { // 10% live long
			ttl = time.Hour
		}
		db.SetExpire(k, clk.Now().Add(ttl).UnixMilli())
	}
	clk.Advance(2 * time.Second)
	got := db.ActiveExpire(time.Second)
	// 90% of sampled keys are expired, so the cycle keeps going until the expired share of a
	// sample drops to 25% or below, reclaiming dead keys nobody accesses. Where it stops varies
	// run to run (456 to 900 seen): a sample is 20 consecutive entries from a random map
	// bucket, not 20 independent keys, so a run of live keys can end the cycle early.
	assert.Greater(t, got, 5*ActiveExpireSample, "the cycle repeated far beyond one 20-key sample")
	assert.LessOrEqual(t, got, 900)
	// A keyspace with few expired keys stops after one sample.
	db2 := New(clk.Now, 2)
	for i := 0; i < 100; i++ {
		k := "k" + strconv.Itoa(i)
		db2.Set(k, str("v"), false)
		db2.SetExpire(k, clk.Now().Add(time.Hour).UnixMilli())
	}
	assert.Equal(t, 0, db2.ActiveExpire(time.Second))
}

func TestMemoryAccountingAndUnlink(t *testing.T) {
	db := New(nil, 1)
	h := map[string][]byte{}
	for i := 0; i < 100; i++ {
		h["f"+strconv.Itoa(i)] = []byte("value")
	}
	db.Set("h", &Value{Kind: KindHash, Hash: h}, false)
	db.Set("s", str("abc"), false)
	before := db.UsedMemory()
	require.Positive(t, before)
	v, ok := db.Unlink("h")
	require.True(t, ok)
	db.Add(-ReleaseDetached(v))
	assert.True(t, db.Delete("s"))
	assert.Equal(t, int64(0), db.UsedMemory())
	assert.False(t, db.Delete("s"))
}

func TestScanReturnsEveryKeyOnce(t *testing.T) {
	db := New(nil, 1)
	for i := 0; i < 1000; i++ {
		db.Set("k"+strconv.Itoa(i), str("v"), false)
	}
	seen := map[string]int{}
	var cursor uint64
	for {
		keys, next := db.Scan(cursor, 37, nil)
		for _, k := range keys {
			seen[k]++
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	assert.Len(t, seen, 1000)
	for k, n := range seen {
		require.Equal(t, 1, n, k)
	}
}

func TestList(t *testing.T) {
	var l List
	for i := 0; i < 20; i++ {
		l.PushBack([]byte{byte('a' + i)})
		l.PushFront([]byte{byte('A' + i)})
	}
	require.Equal(t, 40, l.Len())
	e, _ := l.PopFront()
	assert.Equal(t, "T", string(e))
	e, _ = l.PopBack()
	assert.Equal(t, "t", string(e))
	assert.Equal(t, "S", string(l.At(0)))
}
