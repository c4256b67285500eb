// Package quantile reads quantiles from the three shapes latency data takes
// in a lab: raw samples, a Prometheus histogram, and a runtime/metrics
// histogram. (loadgen.Result.Quantile reads its own HDR histogram.)
package quantile

import (
	"math"
	"runtime/metrics"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Durations is the q-quantile (0..1) of samples by nearest rank, or 0 when
// there are none. samples is not modified.
func Durations(samples []time.Duration, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(samples))
	return s[min(len(s)-1, max(0, int(q*float64(len(s)))))]
}

// Histogram estimates the q-quantile of a Prometheus histogram by linear
// interpolation inside the bucket, as PromQL's histogram_quantile does, so a
// scenario's figure and its alert rule's agree. 0 when it has no samples.
func Histogram(h *dto.Histogram, q float64) float64 {
	total := float64(h.GetSampleCount())
	if total == 0 {
		return 0
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range h.GetBucket() {
		upper, count := b.GetUpperBound(), float64(b.GetCumulativeCount())
		if count >= rank {
			if count == below {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/(count-below)
		}
		lower, below = upper, count
	}
	return lower // beyond the last bucket: its bound is the best we know
}

// RuntimeDelta is the q-quantile of the events a cumulative runtime/metrics
// histogram gained since prev (nil: since the start), or 0 when it gained
// none. It reports the bucket's upper bound: a conservative reading that
// never understates a stall.
func RuntimeDelta(cur, prev *metrics.Float64Histogram, q float64) float64 {
	if cur == nil {
		return 0
	}
	counts := make([]uint64, len(cur.Counts))
	var total uint64
	for i, c := range cur.Counts {
		if prev != nil && i < len(prev.Counts) {
			c -= prev.Counts[i]
		}
		counts[i] = c
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			upper := cur.Buckets[i+1]
			if math.IsInf(upper, 1) {
				upper = cur.Buckets[i]
			}
			return upper
		}
	}
	return 0
}
