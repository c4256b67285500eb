package evidence_test

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// samples is a synthetic window: a row every 100ms with the given series.
func samples(rows int, series map[string]func(i int) float64) *evidence.Samples {
	ss := &evidence.Samples{Columns: []string{"t_seconds"}}
	var names []string
	for _, name := range []string{evidence.SeriesGoroutines, evidence.SeriesHeapLive, evidence.SeriesGCPauseP99, "queue_length"} {
		if _, ok := series[name]; ok {
			names = append(names, name)
		}
	}
	ss.Columns = append(ss.Columns, names...)
	for i := range rows {
		row := []float64{float64(i+1) / 10}
		for _, name := range names {
			row = append(row, series[name](i))
		}
		ss.Rows = append(ss.Rows, row)
	}
	return ss
}

var textElem = regexp.MustCompile(`<text x="(-?[0-9.]+)"[^>]*font-size:([0-9.]+)px[^>]*>([^<]*)</text>`)

// TestChartLabelsFitTheCanvas: every label starts inside the panel and ends
// before its right edge (go-chart's phantom left axis used to be cut in half).
func TestChartLabelsFitTheCanvas(t *testing.T) {
	ss := samples(30, map[string]func(int) float64{
		evidence.SeriesGoroutines: func(i int) float64 { return float64(10 + 40*i) },
		evidence.SeriesHeapLive:   func(i int) float64 { return 3.2e9 + float64(i)*1e7 },
		evidence.SeriesGCPauseP99: func(i int) float64 { return 1.5e-5 * float64(i%3) },
		"queue_length":            func(int) float64 { return 7 }, // flat
	})
	svg, err := ss.Chart()
	require.NoError(t, err)
	labels := textElem.FindAllStringSubmatch(string(svg), -1)
	require.NotEmpty(t, labels)
	for _, m := range labels {
		x, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		size, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		// 0.6em a character is a generous width for a sans-serif digit.
		width := 0.6 * size * float64(len([]rune(m[3])))
		assert.GreaterOrEqual(t, x, 0.0, "label %q starts left of the canvas", m[3])
		assert.LessOrEqual(t, x+width, 900.0, "label %q runs past the right edge", m[3])
	}
	assert.NotContains(t, string(svg), ">1.00<", "the unused secondary axis is hidden")
	assert.Contains(t, string(svg), ">3.2G<", "round ticks in compact units")
}

func TestCompareChartDrawsBothRunsAndTheMarkers(t *testing.T) {
	off := samples(20, map[string]func(int) float64{evidence.SeriesGoroutines: func(int) float64 { return 12 }})
	on := samples(25, map[string]func(int) float64{evidence.SeriesGoroutines: func(i int) float64 { return float64(12 + 100*i) }})
	svg, err := evidence.CompareChart(evidence.SeriesGoroutines, off, on, []timeline.Event{
		{At: 1200 * time.Millisecond, Kind: timeline.Kill, Detail: "node2"}, {At: time.Minute, Kind: "after-the-window"}})
	require.NoError(t, err)
	s := string(svg)
	assert.Contains(t, s, "fault off")
	assert.Contains(t, s, "fault on")
	assert.Contains(t, s, "rgba(0,116,217,1.0)", "the fixed path's curve")
	assert.Contains(t, s, "rgba(217,30,30,1.0)", "the fault's curve")
	assert.Contains(t, s, "kill node2")
	assert.NotContains(t, s, "after-the-window", "a marker outside the window would stretch the time axis")
	assert.Contains(t, s, "stroke-dasharray", "markers are dashed vertical lines")

	// metrics.svg draws the events on every panel too.
	svg, err = on.Chart(timeline.Event{At: 1200 * time.Millisecond, Kind: timeline.Restart, Detail: "node3"})
	require.NoError(t, err)
	assert.Contains(t, string(svg), "restart node3")

	_, err = evidence.CompareChart("absent", off, on, nil)
	require.ErrorIs(t, err, evidence.ErrTooFewSamples)
}

func TestReadCSVReadsWhatWriteCSVWrote(t *testing.T) {
	ss := samples(5, map[string]func(int) float64{
		evidence.SeriesGoroutines: func(i int) float64 { return float64(i) },
		"queue_length": func(i int) float64 {
			if i < 2 {
				return math.NaN() // added late: blank cells
			}
			return 0.25 * float64(i)
		},
	})
	var buf bytes.Buffer
	require.NoError(t, ss.WriteCSV(&buf))
	got, err := evidence.ReadCSV(&buf)
	require.NoError(t, err)
	assert.Equal(t, ss.Columns, got.Columns)
	assert.Equal(t, 4.0, got.Max(evidence.SeriesGoroutines))
	assert.Equal(t, 2.0, got.Mean(evidence.SeriesGoroutines))
	assert.Equal(t, 0.75, got.Mean("queue_length"), "blank cells are no value, not zero")
	assert.True(t, math.IsNaN(got.Mean("absent")))
}

func TestReadCSVRejectsWhatItDidNotWrite(t *testing.T) {
	for _, in := range []string{"", "a,b\n1,2\n", "t_seconds,x\n0.1,abc\n", "t_seconds,x\n0.1\n"} {
		_, err := evidence.ReadCSV(bytes.NewReader([]byte(in)))
		assert.Error(t, err, "%q", in)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("t_seconds,goroutines\n0.1,12\n0.2,\n"))
	f.Add([]byte("t_seconds\n"))
	f.Add([]byte("t_seconds,x\n\"0.1\",NaN\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := evidence.ReadCSV(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, r := range ss.Rows {
			require.Len(t, r, len(ss.Columns))
		}
		_, _ = ss.Chart() // whatever it read, charting it must not panic
	})
}
