package msgcache

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frame(t testing.TB, id, subject string) *bytes.Reader {
	var b bytes.Buffer
	require.NoError(t, WriteFrame(&b, id, subject, 'x'))
	return bytes.NewReader(b.Bytes())
}

func TestReceive(t *testing.T) {
	for _, pinning := range []bool{false, true} {
		t.Run(fmt.Sprint("pinning=", pinning), func(t *testing.T) {
			c, err := New(2, pinning)
			require.NoError(t, err)
			fresh, err := c.Receive(frame(t, "a", "hello"))
			require.NoError(t, err)
			assert.True(t, fresh)
			fresh, err = c.Receive(frame(t, "a", "hello"))
			require.NoError(t, err)
			assert.False(t, fresh, "a duplicate id")
			s, ok := c.Subject("a")
			assert.True(t, ok)
			assert.Equal(t, "hello", s)
			for _, id := range []string{"b", "c"} {
				_, err = c.Receive(frame(t, id, "subject-"+id))
				require.NoError(t, err)
			}
			st := c.Stats()
			if pinning {
				assert.Equal(t, 3, st.Entries, "the defective cache never evicts")
				assert.Greater(t, st.PinnedToLive, 100.0, "each subject pins its whole frame")
			} else {
				assert.Equal(t, 2, st.Entries, "bounded at max")
				_, ok = c.Subject("a")
				assert.False(t, ok, "the oldest entry was evicted")
				assert.Less(t, st.PinnedToLive, 2.0, "copies hold only what they need")
			}
		})
	}
}

// TestPinnedMemoryIsReal: the heap, not just the counters, holds the frames.
func TestPinnedMemoryIsReal(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	growth := map[bool]float64{}
	for _, pinning := range []bool{false, true} {
		before := heap()
		c, err := New(100, pinning)
		require.NoError(t, err)
		for i := range 1000 {
			_, err := c.Receive(frame(t, fmt.Sprint(i), "subject"))
			require.NoError(t, err)
		}
		growth[pinning] = float64(heap()) - float64(before)
		runtime.KeepAlive(c)
	}
	assert.Greater(t, growth[true], 10e6, "1000 pinned 16 KiB frames")
	assert.Less(t, growth[false], 1e6)
}

func TestBadFrames(t *testing.T) {
	c, err := New(1, false)
	require.NoError(t, err)
	for _, f := range []string{"nope", "id=;subject=x;", "id=a;subject=" + strings.Repeat("s", 300) + ";", "id=a;nosubject"} {
		b := make([]byte, FrameSize)
		copy(b, f)
		_, err := c.Receive(bytes.NewReader(b))
		assert.ErrorIs(t, err, ErrBadFrame, f)
	}
	_, err = c.Receive(bytes.NewReader([]byte("short")))
	assert.ErrorContains(t, err, "read frame")
	_, err = New(0, false)
	assert.Error(t, err)
	assert.Error(t, WriteFrame(&bytes.Buffer{}, "", "x", 0))
}

func FuzzReceive(f *testing.F) {
	f.Add([]byte("id=a;subject=b;"))
	f.Add([]byte("id=;subject=;"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, head []byte) {
		c, _ := New(4, false)
		b := make([]byte, FrameSize)
		copy(b, head)
		_, _ = c.Receive(bytes.NewReader(b)) // must not panic
	})
}
