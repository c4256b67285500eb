package cachesim

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// Chart draws one panel per trace: hit ratio (y) against capacity (x, log scale), one line per
// policy. The SVG is self-contained.
func Chart(results []Result) []byte {
	var traces, policies []string
	var caps []int
	for _, r := range results {
		if !slices.Contains(traces, r.Trace) {
			traces = append(traces, r.Trace)
		}
		if !slices.Contains(policies, r.Policy) {
			policies = append(policies, r.Policy)
		}
		if !slices.Contains(caps, r.Capacity) {
			caps = append(caps, r.Capacity)
		}
	}
	slices.Sort(caps)
	const pw, ph, left, top, gap = 420, 260, 60, 40, 90
	width := left + len(traces)*(pw+gap)
	height := top + ph + 60 + 20*len(policies)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	if len(caps) == 0 {
		b.WriteString("</svg>\n")
		return b.Bytes()
	}
	lo, hi := math.Log10(float64(caps[0])), math.Log10(float64(caps[len(caps)-1]))
	if hi == lo {
		hi = lo + 1
	}
	for ti, tr := range traces {
		x0 := left + ti*(pw+gap)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0, top-15, tr)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0, top, pw, ph)
		for i := 0; i <= 4; i++ {
			y := top + ph - i*ph/4
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#eee"/><text x="%d" y="%d" text-anchor="end">%d%%</text>`+"\n",
				x0, y, x0+pw, y, x0-5, y+4, i*25)
		}
		px := func(c int) float64 { return float64(x0) + (math.Log10(float64(c))-lo)/(hi-lo)*float64(pw) }
		for _, c := range caps {
			fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%d</text>`+"\n", px(c), top+ph+15, c)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">cache capacity (entries, log scale)</text>`+"\n", x0+pw/2, top+ph+32)
		for pi, p := range policies {
			var pts []string
			for _, r := range results {
				if r.Trace == tr && r.Policy == p {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(r.Capacity), float64(top+ph)-r.HitRatio*float64(ph)))
				}
			}
			col := palette[pi%len(palette)]
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", col, dash(p), joinSpace(pts))
		}
	}
	for pi, p := range policies {
		y := top + ph + 55 + 20*pi
		col := palette[pi%len(palette)]
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/><text x="%d" y="%d">%s</text>`+"\n",
			left, y, left+30, y, col, dash(p), left+38, y+4, p)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// dash draws the anchors' lines dashed, so ours stays visible where a policy matches it exactly
// (our LRU and golang-lru have the same hit ratio on every trace).
func dash(policy string) string {
	if strings.HasPrefix(policy, "ours") {
		return ""
	}
	return ` stroke-dasharray="6 4"`
}

func joinSpace(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}
