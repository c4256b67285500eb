package quantile_test

import (
	"math"
	"runtime/metrics"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/proto"

	"github.com/architect-roadmap/architect-roadmap/labkit/quantile"
)

func TestDurations(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"median of unsorted", ms(5, 1, 4, 2, 3), 0.5, 3 * time.Millisecond},
		{"p99 is the largest of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{"q=1 stays in range", ms(1, 2), 1, 2 * time.Millisecond},
		{"q=0 is the smallest", ms(3, 1, 2), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tt.samples...)
			assert.Equal(t, tt.want, quantile.Durations(tt.samples, tt.q))
			assert.Equal(t, before, tt.samples, "the caller's slice is not reordered")
		})
	}
}

func TestHistogram(t *testing.T) {
	// 10 samples: 4 in (0, 1], 4 in (1, 2], 2 in (2, 4].
	h := &dto.Histogram{SampleCount: proto.Uint64(10), Bucket: []*dto.Bucket{
		{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(4)},
		{UpperBound: proto.Float64(2), CumulativeCount: proto.Uint64(8)},
		{UpperBound: proto.Float64(4), CumulativeCount: proto.Uint64(10)},
	}}
	tests := []struct {
		name string
		h    *dto.Histogram
		q    float64
		want float64
	}{
		{"empty", &dto.Histogram{}, 0.5, 0},
		{"inside the first bucket", h, 0.2, 0.5},
		{"median interpolated in the second", h, 0.5, 1.25},
		{"p90 in the last", h, 0.9, 3},
		{"beyond the last bucket", &dto.Histogram{SampleCount: proto.Uint64(2), Bucket: []*dto.Bucket{
			{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(1)}}}, 0.99, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, quantile.Histogram(tt.h, tt.q), 1e-9)
		})
	}
}

func TestRuntimeDelta(t *testing.T) {
	buckets := []float64{0, 1, 2, math.Inf(1)}
	prev := &metrics.Float64Histogram{Buckets: buckets, Counts: []uint64{5, 0, 0}}
	cur := &metrics.Float64Histogram{Buckets: buckets, Counts: []uint64{5, 9, 1}}
	tests := []struct {
		name      string
		cur, prev *metrics.Float64Histogram
		q         float64
		want      float64
	}{
		{"no histogram", nil, nil, 0.99, 0},
		{"nothing new", prev, prev, 0.99, 0},
		{"new events only, as the upper bound", cur, prev, 0.5, 2},
		{"the open-ended bucket reports its lower bound", cur, prev, 0.99, 2},
		{"since the start", cur, nil, 0.2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, quantile.RuntimeDelta(tt.cur, tt.prev, tt.q))
		})
	}
}
