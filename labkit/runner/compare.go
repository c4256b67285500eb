package runner

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// compareCharts writes dir/compare-<series>.svg for each key series the two
// runs sampled and returns their paths.
func compareCharts(dir, offDir, onDir string, events []timeline.Event) ([]string, error) {
	off, err := readSamples(offDir)
	if err != nil {
		return nil, err
	}
	on, err := readSamples(onDir)
	if err != nil {
		return nil, err
	}
	var charts []string
	var errs []error
	for _, name := range keySeries(off, on) {
		svg, err := evidence.CompareChart(name, off, on, events)
		if errors.Is(err, evidence.ErrTooFewSamples) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		path := filepath.Join(dir, "compare-"+fileSafe(name)+".svg")
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("runner: %w", err))
			continue
		}
		charts = append(charts, path)
	}
	return charts, errors.Join(errs...)
}

// keySeries are the series worth a comparison: every column either run has,
// in order, but the time axis and the two that only ever count up or sit
// still (GC cycles, OS threads).
func keySeries(runs ...*evidence.Samples) []string {
	var out []string
	for _, r := range runs {
		for _, c := range r.Columns {
			switch c {
			case "t_seconds", evidence.SeriesGCCycles, evidence.SeriesThreads:
				continue
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

func readSamples(dir string) (*evidence.Samples, error) {
	f, err := os.Open(filepath.Join(dir, evidence.MetricsCSV))
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	defer f.Close()
	return evidence.ReadCSV(f)
}

// fileSafe keeps a series name usable as part of a file name.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return '_'
	}, name)
}

// signals are a mystery incident's common signals beside its baseline: the
// runtime's own, summed up over each window, then the lab's Signals as the
// scenario recorded them (or, for one it only charted, the series' peak). A
// signal neither run has is left out rather than shown as zero.
func signals(lab Lab, base, inc report.Scenario) []report.Signal {
	bs, berr := readSamples(base.Dir)
	is, ierr := readSamples(inc.Dir)
	stat := func(ss *evidence.Samples, err error, name, how string) float64 {
		switch {
		case err != nil:
			return math.NaN()
		case how == "mean":
			return ss.Mean(name)
		}
		return ss.Max(name)
	}
	var out []report.Signal
	add := func(sg report.Signal) {
		if !math.IsNaN(sg.Baseline) && !math.IsNaN(sg.Value) {
			out = append(out, sg)
		}
	}
	for _, r := range []struct{ name, how string }{
		{evidence.SeriesGoroutines, "max"}, {evidence.SeriesHeapLive, "max"}, {evidence.SeriesGCPauseP99, "max"},
		{evidence.SeriesSchedP99, "max"}, {evidence.SeriesCPUUtil, "mean"},
	} {
		add(report.Signal{Name: r.name, Stat: r.how, Baseline: stat(bs, berr, r.name, r.how), Value: stat(is, ierr, r.name, r.how)})
	}
	for _, name := range lab.commonSignals() {
		b, bok := base.Metrics[name]
		v, vok := inc.Metrics[name]
		if bok && vok {
			add(report.Signal{Name: name, Baseline: b, Value: v})
			continue
		}
		add(report.Signal{Name: name, Stat: "max", Baseline: stat(bs, berr, name, "max"), Value: stat(is, ierr, name, "max")})
	}
	return out
}
