package bloom

import (
	"strconv"
	"testing"

	libbloom "github.com/bits-and-blooms/bloom/v3"
)

// BenchmarkBloom runs the hand-written filter and bits-and-blooms/bloom/v3 side by side on the
// same keys (1M items at 1%), so one `go test -bench Bloom ./bloom` run gives the ratio.
func BenchmarkBloom(b *testing.B) {
	const n = 1_000_000
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = []byte("product:" + strconv.Itoa(i*7919))
	}
	mine := New(n, 0.01)
	lib := libbloom.NewWithEstimates(n, 0.01)
	for i := 0; i < n; i += 97 {
		k := []byte("product:" + strconv.Itoa(i))
		mine.Add(k)
		lib.Add(k)
	}
	b.Run("impl=handwritten/op=add", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			mine.Add(keys[i%len(keys)])
		}
	})
	b.Run("impl=bits-and-blooms/op=add", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lib.Add(keys[i%len(keys)])
		}
	})
	b.Run("impl=handwritten/op=test", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			mine.Test(keys[i%len(keys)])
		}
	})
	b.Run("impl=bits-and-blooms/op=test", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lib.Test(keys[i%len(keys)])
		}
	})
}
