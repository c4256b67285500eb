package gmp

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = time.Millisecond

func run(d time.Duration) Segment { return Segment{Kind: Run, Dur: d} }
func sys(d time.Duration) Segment { return Segment{Kind: Syscall, Dur: d} }

func simulate(t *testing.T, procs int, work []GSpec) *Result {
	t.Helper()
	r, err := Simulate(DefaultConfig(procs), work)
	require.NoError(t, err)
	require.Equal(t, len(work), r.Counters.Completed, "every goroutine completes")
	return r
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name  string
		procs int
		work  []GSpec
		check func(t *testing.T, r *Result)
	}{
		{
			name: "one P runs everything in turn, nothing to steal", procs: 1,
			work: []GSpec{{Segments: []Segment{run(5 * ms)}}, {Segments: []Segment{run(5 * ms)}}},
			check: func(t *testing.T, r *Result) {
				assert.Equal(t, 0, r.Counters.Steals)
				assert.Equal(t, 10*ms+DefaultConfig(1).WakeLatency, r.Makespan)
			},
		},
		{
			name: "a long G is preempted every 10ms", procs: 1,
			work: []GSpec{{Segments: []Segment{run(35 * ms)}}, {Segments: []Segment{run(1 * ms)}}},
			check: func(t *testing.T, r *Result) {
				assert.Equal(t, 3, r.Counters.Preemptions)
				// The short G runs after the first slice of the long one, not after all 35ms.
				var shortEnd time.Duration
				for _, s := range r.Spans {
					if s.G == 2 {
						shortEnd = s.End
					}
				}
				assert.Less(t, shortEnd, 12*ms)
			},
		},
		{
			name: "idle Ps steal from P0, where main queued everything", procs: 4,
			work: []GSpec{
				{Segments: []Segment{run(10 * ms)}}, {Segments: []Segment{run(10 * ms)}},
				{Segments: []Segment{run(10 * ms)}}, {Segments: []Segment{run(10 * ms)}},
			},
			check: func(t *testing.T, r *Result) {
				assert.Positive(t, r.Counters.Steals)
				assert.Less(t, r.Makespan, 12*ms, "four Ps run four Gs in parallel")
			},
		},
		{
			name: "a slow syscall hands its P to another M", procs: 1,
			work: []GSpec{
				{Segments: []Segment{run(1 * ms), sys(5 * ms), run(1 * ms)}},
				{Segments: []Segment{run(3 * ms)}},
			},
			check: func(t *testing.T, r *Result) {
				assert.Equal(t, 1, r.Counters.Handoffs)
				assert.Equal(t, 2, r.Counters.Threads, "the blocked M plus the one running G2")
				assert.Less(t, r.Makespan, 7*ms+100*time.Microsecond, "G2 ran during the syscall")
			},
		},
		{
			name: "a fast syscall keeps its P", procs: 1,
			work: []GSpec{{Segments: []Segment{run(1 * ms), sys(5 * time.Microsecond), run(1 * ms)}}},
			check: func(t *testing.T, r *Result) {
				assert.Equal(t, 0, r.Counters.Handoffs)
				assert.Equal(t, 1, r.Counters.SyscallsFast)
			},
		},
		{
			name: "a full local queue spills half to the global queue", procs: 2,
			work: func() []GSpec {
				w := make([]GSpec, 300)
				for i := range w {
					w[i] = GSpec{Segments: []Segment{run(time.Millisecond)}}
				}
				return w
			}(),
			check: func(t *testing.T, r *Result) {
				assert.Positive(t, r.Counters.LocalSpills)
				assert.Positive(t, r.Counters.GlobalGrabs)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, simulate(t, tt.procs, tt.work))
		})
	}
}

func TestConservationAndDeterminism(t *testing.T) {
	w := Workload{Goroutines: 200, MeanRun: 3 * ms, Bursts: 4, SyscallProb: 0.3, MeanSyscall: 2 * ms}
	work, err := w.Generate(7)
	require.NoError(t, err)
	var cpu time.Duration
	for _, g := range work {
		for _, s := range g.Segments {
			if s.Kind == Run {
				cpu += s.Dur
			}
		}
	}
	for _, procs := range []int{1, 2, 4, 8} {
		cfg := DefaultConfig(procs)
		cfg.Seed = 3
		a, err := Simulate(cfg, work)
		require.NoError(t, err)
		b, err := Simulate(cfg, work)
		require.NoError(t, err)
		assert.Equal(t, a, b, "same seed, same schedule")
		var busy time.Duration
		for _, x := range a.Busy {
			busy += x
		}
		assert.Equal(t, cpu, busy, "every microsecond of CPU work is scheduled exactly once")
		assert.GreaterOrEqual(t, a.Makespan, cpu/time.Duration(procs), "no P runs two Gs at once")
		// No two spans overlap on the same P.
		last := make([]time.Duration, procs)
		for _, s := range a.Spans {
			assert.GreaterOrEqual(t, s.Start, last[s.P])
			last[s.P] = s.End
		}
	}
	one, _ := Simulate(DefaultConfig(1), work)
	four, _ := Simulate(DefaultConfig(4), work)
	assert.Less(t, float64(four.Makespan), 0.35*float64(one.Makespan), "4 Ps finish CPU-bound work ~4x sooner")
}

func TestSeedChangesStealOrder(t *testing.T) {
	work, err := Workload{Goroutines: 100, MeanRun: 2 * ms, Bursts: 3, SyscallProb: 0.5, MeanSyscall: ms}.Generate(1)
	require.NoError(t, err)
	c1, c2 := DefaultConfig(4), DefaultConfig(4)
	c2.Seed = 99
	a, _ := Simulate(c1, work)
	b, _ := Simulate(c2, work)
	assert.NotEqual(t, a.Spans, b.Spans)
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		work []GSpec
	}{
		{"zero procs", DefaultConfig(0), nil},
		{"zero slice", Config{Procs: 1, LocalQueueCap: 4}, nil},
		{"negative duration", DefaultConfig(1), []GSpec{{Segments: []Segment{run(-1)}}}},
		{"syscall first", DefaultConfig(1), []GSpec{{Segments: []Segment{sys(ms)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Simulate(tt.cfg, tt.work)
			assert.Error(t, err)
		})
	}
	_, err := Workload{}.Generate(1)
	assert.Error(t, err)
}

func TestSVGAndTrace(t *testing.T) {
	work, err := Workload{Goroutines: 50, MeanRun: 5 * ms, Bursts: 3, SyscallProb: 0.3, MeanSyscall: ms}.Generate(2)
	require.NoError(t, err)
	cfg := DefaultConfig(2)
	cfg.TraceEvery = 50 * ms
	r, err := Simulate(cfg, work)
	require.NoError(t, err)
	assert.NotEmpty(t, r.Trace)
	assert.Contains(t, r.Trace[0], "gomaxprocs=2")
	var buf bytes.Buffer
	require.NoError(t, r.WriteSVG(&buf))
	var doc struct{ XMLName xml.Name }
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc), "the chart is well-formed XML")
	assert.Equal(t, "svg", doc.XMLName.Local)
	assert.Contains(t, buf.String(), "P1")
}
