package runner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
)

func TestTrafficSignals(t *testing.T) {
	tests := []struct {
		name   string
		feed   func(*Traffic)
		window time.Duration
		want   map[string]float64
	}{
		{"nothing observed", func(*Traffic) {}, time.Second, nil},
		{"99 fast and one slow, one failed", func(tr *Traffic) {
			for range 98 {
				tr.Observe(time.Millisecond, nil)
			}
			tr.Observe(time.Millisecond, errors.New("refused"))
			tr.Observe(500*time.Millisecond, nil)
		}, 2 * time.Second, map[string]float64{SignalRate: 50, SignalErrorRatio: 0.01, SignalP99: 1}},
		{"two in a hundred slow", func(tr *Traffic) {
			for range 98 {
				tr.Observe(time.Millisecond, nil)
			}
			tr.Observe(500*time.Millisecond, nil)
			tr.Observe(500*time.Millisecond, nil)
		}, time.Second, map[string]float64{SignalRate: 100, SignalErrorRatio: 0, SignalP99: 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTraffic()
			tt.feed(tr)
			got := tr.signals(tt.window)
			if tt.want == nil {
				assert.Nil(t, got)
				return
			}
			require.Len(t, got, len(tt.want))
			for k, v := range tt.want {
				assert.InDelta(t, v, got[k], v*0.01+1e-9, k)
			}
		})
	}
}

func TestTrafficAddsLoadgenResults(t *testing.T) {
	res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: 1, MaxRequests: 200}, func(context.Context) error {
		time.Sleep(2 * time.Millisecond)
		return nil
	})
	require.NoError(t, err)
	tr := NewTraffic()
	tr.Add(res)
	tr.Observe(time.Millisecond, errors.New("one more, failed"))
	got := tr.signals(time.Second)
	assert.InDelta(t, 201, got[SignalRate], 1e-9)
	assert.InDelta(t, 1.0/201, got[SignalErrorRatio], 1e-9)
	assert.InDelta(t, float64(res.Latency.P99.Microseconds())/1000, got[SignalP99], 0.05*got[SignalP99],
		"the p99 survives the move from loadgen's histogram")
}

func TestEnvMetricsPreferWhatTheScenarioRecorded(t *testing.T) {
	env := &Env{Duration: time.Second, recorded: map[string]float64{SignalRate: 7}}
	env.Traffic().Observe(time.Millisecond, nil)
	got := env.metrics()
	assert.Equal(t, 7.0, got[SignalRate])
	assert.Contains(t, got, SignalP99)
}

func TestLabSignalsMayNotRepeatTheREDTrio(t *testing.T) {
	lab := Lab{Number: 1, Signals: []string{SignalP99}}
	assert.ErrorContains(t, lab.Validate(), "listed twice")
}

func TestTrafficMerge(t *testing.T) {
	total, a, b := NewTraffic(), NewTraffic(), NewTraffic()
	for range 50 {
		a.Observe(time.Millisecond, nil)
		b.Observe(3*time.Millisecond, errors.New("timeout"))
	}
	total.Merge(a)
	total.Merge(b)
	got := total.signals(time.Second)
	assert.InDelta(t, 100, got[SignalRate], 1e-9)
	assert.InDelta(t, 0.5, got[SignalErrorRatio], 1e-9)
	assert.InDelta(t, 3, got[SignalP99], 0.05)
}
