package evidence

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"
)

// chartPanel is the height of one series' panel in the stacked chart.
const (
	chartWidth = 900
	chartPanel = 180
)

// Chart renders every series as its own panel, stacked in one SVG, so a
// learner opens one file and sees goroutines, heap, CPU and the lab's series
// share a time axis. Series with very different scales never share a panel.
func (ss *Samples) Chart() ([]byte, error) {
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
		g := chart.Chart{
			Title:      name,
			Width:      chartWidth,
			Height:     chartPanel,
			Background: chart.Style{Padding: chart.Box{Top: 40, Left: 20, Right: 20, Bottom: 10}},
			XAxis:      chart.XAxis{Name: "seconds"},
			YAxis:      chart.YAxis{ValueFormatter: compact},
			Series:     []chart.Series{chart.ContinuousSeries{Name: name, XValues: xs, YValues: ys}},
		}
		if flat(ys) {
			// A constant series would make go-chart's range zero-width.
			g.YAxis.Range = &chart.ContinuousRange{Min: ys[0] - 1, Max: ys[0] + 1}
		}
		var buf bytes.Buffer
		if err := g.Render(chart.SVG, &buf); err != nil {
			return nil, fmt.Errorf("evidence: chart %s: %w", name, err)
		}
		panels = append(panels, buf.Bytes())
	}
	return stack(panels), nil
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

func flat(ys []float64) bool {
	for _, y := range ys {
		if y != ys[0] {
			return false
		}
	}
	return true
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
