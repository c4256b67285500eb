// Package labtest turns a lab's scenarios into one table-driven test that
// proves the lab is honest: with each fault on, every symptom check fires and
// the culprit is found in the captured evidence; with it off, no check fires
// and the culprit carries at most half the share it carried with the fault on.
package labtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// SeedEnv is the environment variable that replays a test run's seed.
const SeedEnv = "LAB_SEED"

type config struct {
	duration  time.Duration
	only      []string
	seed      uint64
	seedSet   bool
	keep      string
	noCatalog bool
}

// Option tunes Run.
type Option func(*config)

// Duration sets each scenario's load window (the lab's Window by default).
func Duration(d time.Duration) Option { return func(c *config) { c.duration = d } }

// Only restricts the test to the named faults.
func Only(faults ...string) Option { return func(c *config) { c.only = faults } }

// Seed fixes the seed (otherwise $LAB_SEED, otherwise derived from the clock
// and logged so a failure can be replayed).
func Seed(s uint64) Option { return func(c *config) { c.seed, c.seedSet = s, true } }

// NotInCatalog skips the catalog check, for a harness's own test labs.
func NotInCatalog() Option { return func(c *config) { c.noCatalog = true } }

// KeepEvidence writes evidence under dir instead of a temporary folder.
func KeepEvidence(dir string) Option { return func(c *config) { c.keep = dir } }

// Run runs every scenario of lab twice, fault off then on, and asserts the
// contract. Scenarios run one after another: the CPU profiler and the
// runtime tracer are process-wide.
func Run(t *testing.T, lab runner.Lab, opts ...Option) {
	t.Helper()
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if err := lab.Validate(); err != nil {
		t.Fatalf("lab %d does not validate: %v", lab.Number, err)
	}
	if err := matchesCatalog(lab); err != nil && !cfg.noCatalog {
		t.Fatal(err)
	}
	if !cfg.seedSet {
		cfg.seed = uint64(time.Now().UnixNano() % 1_000_000)
		if s := os.Getenv(SeedEnv); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: expected a non-negative integer", SeedEnv, s)
			}
			cfg.seed = v
		}
	}
	t.Logf("lab %d scenarios with seed %d (replay: %s=%d go test -run %s)", lab.Number, cfg.seed, SeedEnv, cfg.seed, t.Name())

	traffic := map[string]bool{} // fault → reported env.Traffic on both paths
	for _, sc := range lab.Scenarios {
		if len(cfg.only) > 0 && !slices.Contains(cfg.only, sc.Fault) {
			continue
		}
		t.Run(sc.Fault, func(t *testing.T) {
			// The fixed path runs first: a defect that cannot be undone in
			// process (a leaked or deadlocked goroutine) would otherwise
			// still be in the fixed path's profiles and blur the contrast.
			var results [2]report.Scenario // off, on
			for i, on := range []bool{false, true} {
				dir := filepath.Join(t.TempDir(), sc.Fault)
				if cfg.keep != "" {
					dir = filepath.Join(cfg.keep, fmt.Sprintf("%s-%s", sc.Fault, onOff(on)))
				}
				results[i] = runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{
					FaultOn: on, Seed: cfg.seed, Duration: cfg.duration, Dir: dir})
				Assert(t, sc, results[i])
				AssertProperties(t, sc, results[i])
			}
			AssertContrast(t, sc, results[1], results[0])
			_, offOK := results[0].Metrics[runner.SignalRate]
			_, onOK := results[1].Metrics[runner.SignalRate]
			traffic[sc.Fault] = offOK && onOK
		})
	}
	AssertCommonSignals(t, traffic)
}

// AssertCommonSignals checks that the scenarios of a lab report the same
// common signals: a fault=mystery run shows only those (rate, errors, p99 of
// env.Traffic) beside a baseline, so a scenario that reports none would
// give its fault away by the empty dashboard. traffic maps each fault to
// whether it reported env.Traffic with the fault off and on.
func AssertCommonSignals(t testing.TB, traffic map[string]bool) {
	t.Helper()
	var with, without []string
	for f, ok := range traffic {
		if ok {
			with = append(with, f)
		} else {
			without = append(without, f)
		}
	}
	if len(with) > 0 && len(without) > 0 {
		slices.Sort(with)
		slices.Sort(without)
		t.Errorf("expected every scenario of the lab to report its users' traffic (env.Traffic().Add(loadgen result) or Observe), as %s do; got none from %s: a mystery run would show them an empty dashboard",
			strings.Join(with, ", "), strings.Join(without, ", "))
	}
}

// Assert checks one scenario result against the contract, with messages a
// learner can act on: what was expected, what came, and where to look.
func Assert(t testing.TB, sc runner.Scenario, res report.Scenario) {
	t.Helper()
	side := "fault " + onOff(res.FaultOn)
	if res.Error != "" {
		t.Errorf("%s, %s: the scenario failed to run: %s\n  evidence: %s", sc.Fault, side, res.Error, res.Dir)
		return
	}
	for _, c := range res.Checks {
		switch {
		case c.Missing:
			t.Errorf("%s, %s: metric %q was never recorded; the scenario must call env.Record(%q, v)",
				sc.Fault, side, c.Metric, c.Metric)
		case c.Symptom != res.FaultOn:
			want := "the symptom"
			if !res.FaultOn {
				want = "no symptom"
			}
			t.Errorf("%s, %s: expected %s on %s (symptom when %s %s), got %s\n  all metrics: %v\n  evidence: %s",
				sc.Fault, side, want, c.Metric, c.Op, report.FormatValue(c.Threshold, c.Unit),
				report.FormatValue(c.Value, c.Unit), res.Metrics, res.Dir)
		}
	}
	if res.FaultOn && !res.Culprit.Found {
		var hint []string
		for _, e := range res.Culprit.Hint {
			hint = append(hint, fmt.Sprintf("%.0f%% %s", 100*e.Share, culprit.ShortName(e.Func)))
		}
		t.Errorf("%s, fault on: expected the culprit %q to carry at least %.0f%% of the %s profile, got %.1f%% (matched %q)%s\n  the lab's own frames there: %s\n  look: %s",
			sc.Fault, frameOf(sc.Culprit), 100*minShare(sc.Culprit), res.Culprit.Evidence, 100*res.Culprit.Share,
			res.Culprit.Matched, errSuffix(res.Culprit.Error), strings.Join(hint, ", "),
			filepath.Join(res.Dir, evidence.Kind(res.Culprit.Evidence).File()))
	}
}

// AssertContrast checks that the culprit is the defect and not merely where
// the work is: found with the fault on, and with it off carrying at most half
// the share it carried with the fault on (or absent). A frame that every
// request runs (a cache's load, a client's fetch, a warning the fault branch
// itself writes) passes the first half of the contract on both paths; this
// is the half that can tell it apart.
func AssertContrast(t testing.TB, sc runner.Scenario, on, off report.Scenario) {
	t.Helper()
	if on.Error != "" || off.Error != "" || !on.Culprit.Found {
		return // already reported by Assert
	}
	runner.Contrast(&on, off)
	if !on.Culprit.Found {
		t.Errorf("%s: expected the culprit %q to carry at most half of its fault-on share of the %s profile with the fault off (at most %.1f%%), got %.1f%% on and %.1f%% off: the frame runs on the fixed path too; name the frame only the defect runs\n  look: %s and %s",
			sc.Fault, frameOf(sc.Culprit), on.Culprit.Evidence, 50*on.Culprit.Share, 100*on.Culprit.Share,
			100*off.Culprit.Share, filepath.Join(on.Dir, evidence.Kind(on.Culprit.Evidence).File()),
			filepath.Join(off.Dir, evidence.Kind(off.Culprit.Evidence).File()))
	}
	t.Logf("%s: culprit %q share on %.1f%%, off %.1f%%", sc.Fault, frameOf(sc.Culprit), 100*on.Culprit.Share, 100*off.Culprit.Share)
}

func frameOf(c runner.Culprit) string {
	if c.Frame != "" {
		return c.Frame
	}
	return c.Func
}

func minShare(c runner.Culprit) float64 {
	if c.MinShare > 0 {
		return c.MinShare
	}
	return runner.DefaultMinShare
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// matchesCatalog keeps `make labs` and roadmap.md honest: the catalog lists
// exactly the faults the lab declares, in order.
func matchesCatalog(lab runner.Lab) error {
	st, err := catalog.Lookup(lab.Number)
	if err != nil {
		return err
	}
	var got []string
	for _, sc := range lab.Scenarios {
		got = append(got, sc.Fault)
	}
	if !slices.Equal(got, st.Faults) || st.Status != catalog.Ready || lab.Title != st.Title {
		return fmt.Errorf("lab %d: the catalog (labkit/catalog) says title %q, status %s, faults %v; the lab declares title %q, faults %v: update one of them",
			lab.Number, st.Title, st.Status, st.Faults, lab.Title, got)
	}
	return nil
}
