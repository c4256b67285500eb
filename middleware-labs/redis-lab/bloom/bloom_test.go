package bloom

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFalsePositiveRateMatchesTheory inserts n keys, probes 200k keys never inserted and compares
// the measured false-positive rate with (1 - e^(-kn/m))^k. Run with -v to see the numbers.
func TestFalsePositiveRateMatchesTheory(t *testing.T) {
	tests := []struct {
		n int
		p float64
	}{{10_000, 0.01}, {100_000, 0.01}, {100_000, 0.001}, {50_000, 0.05}}
	for _, tc := range tests {
		f := New(tc.n, tc.p)
		for i := 0; i < tc.n; i++ {
			f.Add([]byte("product:" + strconv.Itoa(i)))
		}
		for i := 0; i < tc.n; i++ {
			require.True(t, f.Test([]byte("product:"+strconv.Itoa(i))), "no false negatives")
		}
		const probes = 200_000
		fp := 0
		for i := 0; i < probes; i++ {
			if f.Test([]byte("missing:" + strconv.Itoa(i))) {
				fp++
			}
		}
		measured := float64(fp) / probes
		theory := f.TheoreticalFPR(tc.n)
		t.Logf("n=%d target=%.3f m=%d k=%d theory=%.5f measured=%.5f", tc.n, tc.p, f.M(), f.K(), theory, measured)
		assert.InDelta(t, theory, measured, theory*0.25+0.0005, "measured rate within 25%% of theory")
		assert.InDelta(t, tc.p, theory, tc.p*0.1, "sizing hits the target rate")
	}
}

func BenchmarkFilterTest(b *testing.B) {
	f := New(1_000_000, 0.01)
	for i := 0; i < 1_000_000; i++ {
		f.Add([]byte(strconv.Itoa(i)))
	}
	key := []byte("123456")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Test(key)
	}
}
