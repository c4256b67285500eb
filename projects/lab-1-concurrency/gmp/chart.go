package gmp

import (
	"fmt"
	"io"
	"text/template"
	"time"
)

// The per-P timeline is a Gantt chart. go-chart (which labkit uses for its time series) has no
// Gantt type, so this is a small hand-built SVG: one row per P, one rectangle per span, colour by G.
var chartTmpl = template.Must(template.New("chart").Parse(`<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="14">{{.Title}}</text>
{{range .Rows}}<text x="10" y="{{.TextY}}">P{{.P}}</text>
<rect x="{{$.X0}}" y="{{.Y}}" width="{{$.PlotW}}" height="{{$.RowH}}" fill="#f2f2f2"/>
{{end}}{{range .Bars}}<rect x="{{printf "%.2f" .X}}" y="{{.Y}}" width="{{printf "%.2f" .W}}" height="{{$.RowH}}" fill="{{.Fill}}"><title>{{.Tip}}</title></rect>
{{if .Label}}<text x="{{printf "%.2f" .LabelX}}" y="{{.LabelY}}" text-anchor="middle" font-size="10" fill="white">{{.Label}}</text>
{{end}}{{end}}{{range .Marks}}<line x1="{{printf "%.2f" .X}}" x2="{{printf "%.2f" .X}}" y1="{{.Y}}" y2="{{.Y2}}" stroke="black" stroke-width="1"/>
{{end}}{{range .Ticks}}<line x1="{{printf "%.2f" .X}}" x2="{{printf "%.2f" .X}}" y1="{{$.AxisY}}" y2="{{$.AxisY2}}" stroke="#888"/><text x="{{printf "%.2f" .X}}" y="{{$.LabelY}}" text-anchor="middle">{{.Label}}</text>
{{end}}<text x="{{.X0}}" y="{{.FootY}}">{{.Foot}}</text>
</svg>
`))

type chartBar struct {
	X, W, LabelX float64
	Y, LabelY    int
	Fill, Tip    string
	Label        string // the G's id, when the bar is wide enough to hold it
}

type chartMark struct {
	X     float64
	Y, Y2 int
}

// WriteSVG draws the per-P timeline: coloured bars are Gs running, black ticks mark preemptions.
func (r *Result) WriteSVG(w io.Writer) error {
	const x0, plotW, rowH, gap, top = 50, 1000, 28, 8, 30
	procs := len(r.Busy)
	span := max(r.Makespan, time.Millisecond)
	scale := float64(plotW) / float64(span)
	data := struct {
		W, H, X0, PlotW, RowH, AxisY, AxisY2, LabelY, FootY int
		Title, Foot                                         string
		Rows                                                []struct{ P, Y, TextY int }
		Bars                                                []chartBar
		Marks                                               []chartMark
		Ticks                                               []struct {
			X     float64
			Label string
		}
	}{
		X0: x0, PlotW: plotW, RowH: rowH,
		Title: fmt.Sprintf("GMP simulation: GOMAXPROCS=%d, seed %d, makespan %v", procs, r.Config.Seed, r.Makespan),
		Foot: fmt.Sprintf("preemptions %d (black ticks)  steals %d (%d Gs)  hand-offs %d  global grabs %d  threads %d  utilization %.0f%%",
			r.Counters.Preemptions, r.Counters.Steals, r.Counters.StolenGs, r.Counters.Handoffs,
			r.Counters.GlobalGrabs, r.Counters.Threads, 100*r.Utilization()),
	}
	for p := range procs {
		y := top + p*(rowH+gap)
		data.Rows = append(data.Rows, struct{ P, Y, TextY int }{p, y, y + rowH/2 + 4})
	}
	for _, s := range r.Spans {
		y := top + s.P*(rowH+gap)
		x := float64(x0) + float64(s.Start)*scale
		bar := chartBar{
			X: x, W: max(float64(s.End-s.Start)*scale, 0.5), Y: y,
			Fill: fmt.Sprintf("hsl(%d,65%%,%d%%)", (s.G*47)%360, 35+(s.G%3)*8),
			Tip:  fmt.Sprintf("G%d on P%d %v..%v (%s)", s.G, s.P, s.Start, s.End, s.Why),
		}
		if bar.W >= 28 {
			bar.Label, bar.LabelX, bar.LabelY = fmt.Sprintf("G%d", s.G), x+bar.W/2, y+rowH/2+4
		}
		data.Bars = append(data.Bars, bar)
		if s.Why == "preempt" {
			xe := float64(x0) + float64(s.End)*scale
			data.Marks = append(data.Marks, chartMark{X: xe, Y: y, Y2: y + rowH})
		}
	}
	axis := top + procs*(rowH+gap)
	data.AxisY, data.AxisY2, data.LabelY = axis, axis+5, axis+18
	data.FootY, data.H, data.W = axis+40, axis+55, x0+plotW+20
	step := niceStep(span)
	for t := time.Duration(0); t <= span; t += step {
		data.Ticks = append(data.Ticks, struct {
			X     float64
			Label string
		}{float64(x0) + float64(t)*scale, t.String()})
	}
	return chartTmpl.Execute(w, data)
}

func niceStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
		10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second} {
		if span/s <= 10 {
			return s
		}
	}
	return 10 * time.Second
}
