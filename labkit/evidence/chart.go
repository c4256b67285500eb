package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// chartPanel is the height of one series' panel in the stacked chart.
const (
	chartWidth = 900
	chartPanel = 180
)

// Chart renders every series as its own panel, stacked in one SVG, so a
// learner opens one file and sees goroutines, heap, CPU and the lab's series
// share a time axis. Series with very different scales never share a panel.
// Events (a kill, a partition) are drawn on every panel as vertical lines.
func (ss *Samples) Chart(events ...timeline.Event) ([]byte, error) {
	t := ss.Column(timeColumn)
	var panels [][]byte
	for _, name := range ss.Columns {
		if name == timeColumn {
			continue
		}
		xs, ys := finite(t, ss.Column(name))
		if len(xs) < 2 {
			// go-chart needs two points to draw a line; a window shorter
			// than two ticks has nothing to chart for this series.
			continue
		}
		g := panel(name, xs, ys)
		g.Series = []chart.Series{chart.ContinuousSeries{Name: name, XValues: xs, YValues: ys}}
		mark(&g, events, lastOf(xs))
		var buf bytes.Buffer
		if err := g.Render(chart.SVG, &buf); err != nil {
			return nil, fmt.Errorf("evidence: chart %s: %w", name, err)
		}
		panels = append(panels, buf.Bytes())
	}
	return stack(panels), nil
}

// panel is one series' chart with its value axis on the right, ticked at
// round numbers that span ys. go-chart draws a left-hand secondary axis
// (ticks 0.00 to 1.00) even when no series uses it, and a panel's padding
// cut its labels in half; it is hidden, and the primary axis is measured.
func panel(title string, xs, ys []float64) chart.Chart {
	lo, hi := bounds(ys)
	ticks := niceTicks(lo, hi)
	xlo, xhi := bounds(xs)
	xticks := niceTicks(max(0, xlo), xhi)
	return chart.Chart{
		Title:      title,
		Width:      chartWidth,
		Height:     chartPanel,
		Background: chart.Style{Padding: chart.Box{Top: 40, Left: 20, Right: 20, Bottom: 10}},
		XAxis: chart.XAxis{Name: "seconds", ValueFormatter: compact, Ticks: xticks,
			Range: &chart.ContinuousRange{Min: xticks[0].Value, Max: xticks[len(xticks)-1].Value}},
		YAxis:          chart.YAxis{ValueFormatter: compact, Range: &chart.ContinuousRange{Min: ticks[0].Value, Max: ticks[len(ticks)-1].Value}, Ticks: ticks, GridMajorStyle: chart.Style{StrokeColor: chart.ColorLightGray, StrokeWidth: 1}},
		YAxisSecondary: chart.YAxis{Style: chart.Hidden()},
	}
}

// bounds is the range of the finite values of ys, widened when flat (a
// constant series would make the axis zero-wide).
func bounds(ys []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			lo, hi = min(lo, y), max(hi, y)
		}
	}
	switch {
	case math.IsInf(lo, 1):
		return 0, 1
	case lo == hi:
		d := max(math.Abs(lo)/10, 1e-9)
		if lo == 0 {
			d = 1
		}
		return lo - d, hi + d
	}
	return lo, hi
}

// niceTicks are three to six round values (1, 2 or 5 times a power of ten
// apart) from at or below lo to at or above hi.
func niceTicks(lo, hi float64) []chart.Tick {
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []chart.Tick
	for v := math.Floor(lo/step) * step; len(ticks) < 8; v += step {
		v := math.Round(v/step) * step // no 0.30000000000000004
		ticks = append(ticks, chart.Tick{Value: v, Label: compact(v)})
		if v >= hi {
			break
		}
	}
	return ticks
}

// Compare colours: the fixed path in the chart's blue, the fault in red.
var (
	colorOff = drawing.Color{R: 0, G: 116, B: 217, A: 255}
	colorOn  = drawing.Color{R: 217, G: 30, B: 30, A: 255}
)

// CompareChart draws one series of two runs of a scenario on one time axis,
// fault off and fault on, with the events of the fault-on run as dashed
// vertical lines: the picture that shows what the fault changes and when.
func CompareChart(series string, off, on *Samples, events []timeline.Event) ([]byte, error) {
	offX, offY := finite(off.Column(timeColumn), off.Column(series))
	onX, onY := finite(on.Column(timeColumn), on.Column(series))
	if len(offX) < 2 && len(onX) < 2 {
		return nil, fmt.Errorf("evidence: compare %s: %w", series, ErrTooFewSamples)
	}
	g := panel(series, append(slices.Clone(offX), onX...), append(slices.Clone(offY), onY...))
	g.Height = 2 * chartPanel
	g.Background.Padding.Top = 50
	var curves []chart.Series
	if len(offX) >= 2 {
		curves = append(curves, chart.ContinuousSeries{Name: "fault off", XValues: offX, YValues: offY,
			Style: chart.Style{StrokeColor: colorOff, StrokeWidth: 2}})
	}
	if len(onX) >= 2 {
		curves = append(curves, chart.ContinuousSeries{Name: "fault on", XValues: onX, YValues: onY,
			Style: chart.Style{StrokeColor: colorOn, StrokeWidth: 2}})
	}
	g.Series = append(g.Series, curves...)
	mark(&g, events, max(lastOf(offX), lastOf(onX)))
	var buf bytes.Buffer
	if err := g.Render(chart.SVG, &buf); err != nil {
		return nil, fmt.Errorf("evidence: compare %s: %w", series, err)
	}
	return withLegend(buf.Bytes()), nil
}

// withLegend writes the two curves' key in the top-left corner. go-chart's
// own legends measure text with a font the viewer may not have, and their
// labels then run into their line samples.
func withLegend(svg []byte) []byte {
	legend := fmt.Sprintf(`<text x="20" y="20" font-family="sans-serif" font-size="13" fill="%s">━━ fault off</text>`+
		`<text x="130" y="20" font-family="sans-serif" font-size="13" fill="%s">━━ fault on</text>`, colorOff.String(), colorOn.String())
	i := bytes.LastIndex(svg, []byte("</svg>"))
	if i < 0 {
		return svg
	}
	return slices.Concat(svg[:i], []byte(legend), svg[i:])
}

// mark draws each event up to the last sample as a dashed vertical line
// labelled with its kind and detail.
func mark(g *chart.Chart, events []timeline.Event, last float64) {
	lo, hi := g.YAxis.Range.GetMin(), g.YAxis.Range.GetMax()
	var labels []chart.Value2
	for _, e := range events {
		x := e.At.Seconds()
		if x < 0 || x > last {
			continue // outside the sampled window: it would stretch the time axis
		}
		label := strings.TrimSpace(e.Kind + " " + e.Detail)
		g.Series = append(g.Series, chart.ContinuousSeries{Name: label, XValues: []float64{x, x}, YValues: []float64{lo, hi},
			Style: chart.Style{StrokeColor: chart.ColorBlack, StrokeWidth: 1, StrokeDashArray: []float64{4, 3}}})
		labels = append(labels, chart.Value2{XValue: x, YValue: hi, Label: label})
	}
	if len(labels) > 0 {
		g.Series = append(g.Series, chart.AnnotationSeries{Annotations: labels})
	}
}

// ErrTooFewSamples: a window shorter than two sampling ticks has no line to draw.
var ErrTooFewSamples = errors.New("fewer than two samples")

func lastOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

// stack nests each panel's <svg> in one outer <svg>, one below the other.
func stack(panels [][]byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">`+"\n",
		chartWidth, max(1, len(panels))*chartPanel)
	if len(panels) == 0 {
		b.WriteString(`<text x="10" y="20">no samples: the window was shorter than two sampling ticks</text>` + "\n")
	}
	for i, p := range panels {
		s := string(p)
		if j := strings.Index(s, "<svg"); j >= 0 {
			s = s[j:]
		}
		// A nested <svg> with only a viewBox fills its parent; give each
		// panel its own size and place.
		s = strings.Replace(s, "<svg", fmt.Sprintf(`<svg y="%d" width="%d" height="%d"`, i*chartPanel, chartWidth, chartPanel), 1)
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func finite(xs, ys []float64) ([]float64, []float64) {
	var ox, oy []float64
	for i := range xs {
		if !math.IsNaN(ys[i]) && !math.IsInf(ys[i], 0) {
			ox, oy = append(ox, xs[i]), append(oy, ys[i])
		}
	}
	return ox, oy
}

func compact(v any) string {
	f, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	a := math.Abs(f)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", f/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", f/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", f/1e3)
	case a >= 1 || a == 0:
		return fmt.Sprintf("%.4g", f)
	}
	return fmt.Sprintf("%.2g", f)
}
