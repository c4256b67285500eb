package evidence

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNiceTicksAreRoundAndSpanTheRange(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{lo: 0, hi: 1, want: []float64{0, 0.5, 1}},
		{lo: 3, hi: 97, want: []float64{0, 50, 100}},
		{lo: 11, hi: 13, want: []float64{11, 11.5, 12, 12.5, 13}},
		{lo: 3.1e6, hi: 3.2e7, want: []float64{0, 1e7, 2e7, 3e7, 4e7}},
		{lo: -2, hi: 2, want: []float64{-2, -1, 0, 1, 2}},
	}
	for _, tt := range tests {
		var got []float64
		for _, tk := range niceTicks(tt.lo, tt.hi) {
			got = append(got, tk.Value)
		}
		assert.Equal(t, tt.want, got, "niceTicks(%g, %g)", tt.lo, tt.hi)
	}
}
