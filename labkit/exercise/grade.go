package exercise

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// GradeConfig is how one grade runs.
type GradeConfig struct {
	Seed     uint64
	Duration time.Duration // the load window; the lab's when zero
	Dir      string        // evidence folder; off/ and on/ go under it
	ReadMe   string        // the lab's README, named in the output
}

// Failure is one thing the grade expected and did not get.
type Failure struct {
	Expected string `json:"expected"`
	Got      string `json:"got"`
	Look     string `json:"look"` // the evidence file or command to open
}

// Result is one grade: what `make labs` shows and grade.json holds.
type Result struct {
	Lab      int       `json:"lab"`
	Fault    string    `json:"fault"`
	Passed   bool      `json:"passed"`
	Seed     uint64    `json:"seed"`
	At       time.Time `json:"at"`
	Failures []Failure `json:"failures,omitempty"`
	Dir      string    `json:"dir"`
}

// Grade runs fault's scenario on the fixed path, which now runs the
// learner's code, and then the reference defect for the culprit contrast.
// It writes a line per finding to w and returns the verdict; a fault the lab
// does not declare is an error.
func Grade(ctx context.Context, lab runner.Lab, fault string, cfg GradeConfig, w io.Writer) (Result, error) {
	i := slices.IndexFunc(lab.Scenarios, func(s runner.Scenario) bool { return s.Fault == fault })
	if i < 0 {
		var names []string
		for _, s := range lab.Scenarios {
			names = append(names, s.Fault)
		}
		return Result{}, fmt.Errorf("exercise: lab %d has no fault %q; valid: %v", lab.Number, fault, names)
	}
	sc := lab.Scenarios[i]
	res := Result{Lab: lab.Number, Fault: fault, Seed: cfg.Seed, At: time.Now().UTC(), Dir: cfg.Dir}
	say := func(format string, args ...any) {
		fmt.Fprintf(w, "[lab-%d %s] %s\n", lab.Number, fault, fmt.Sprintf(format, args...))
	}
	fail := func(f Failure) {
		res.Failures = append(res.Failures, f)
		say("✗ expected %s", f.Expected)
		say("  got      %s", f.Got)
		if f.Look != "" {
			say("  look     %s", f.Look)
		}
	}
	finish := func() Result {
		res.Passed = len(res.Failures) == 0
		if res.Passed {
			say("PASS: the harm is gone and the culprit no longer shows. Write the postmortem (make lab-%d fault=%s drafts it), then compare with %s",
				lab.Number, fault, filepath.Join(filepath.Dir(cfg.ReadMe), "postmortems", fault+".md"))
		} else {
			say("FAIL: %d of the fixed path's promises not kept. Read %s (Faults: %s), or ask for a hint: make lab-%d hint=1",
				len(res.Failures), cfg.ReadMe, fault, lab.Number)
		}
		return res
	}

	say("symptom to remove: %s", sc.Symptom)
	say("running your code on the fixed path (fault off), seed=%d ...", cfg.Seed)
	off := runner.RunScenario(ctx, lab, sc, runner.ScenarioConfig{FaultOn: false, Seed: cfg.Seed,
		Duration: cfg.Duration, Dir: filepath.Join(cfg.Dir, "off")})
	if off.Error != "" {
		fail(Failure{Expected: "the scenario to run to the end", Got: off.Error, Look: filepath.Join(off.Dir, evidence.LogFile)})
		return finish(), nil
	}
	for _, c := range off.Checks {
		want := fmt.Sprintf("%s not %s %s (the symptom: %s)", c.Metric, c.Op, report.FormatValue(c.Threshold, c.Unit), sc.Symptom)
		switch {
		case c.Missing:
			fail(Failure{Expected: want, Got: "the metric was never recorded: the scenario stopped before measuring it",
				Look: filepath.Join(off.Dir, evidence.LogFile)})
		case c.Symptom:
			fail(Failure{Expected: want, Got: report.FormatValue(c.Value, c.Unit), Look: off.Next})
		default:
			say("✓ %s = %s (the symptom is %s %s)", c.Metric, report.FormatValue(c.Value, c.Unit), c.Op,
				report.FormatValue(c.Threshold, c.Unit))
		}
	}
	for _, p := range off.Properties {
		switch {
		case p.Error != "":
			fail(Failure{Expected: fmt.Sprintf("the %q check of the history to decide", p.Name), Got: p.Error, Look: off.Dir})
		case !p.Holds:
			fail(Failure{Expected: fmt.Sprintf("%q to hold", p.Name), Got: fmt.Sprintf("violated: %s (counts %v)", p.Detail, p.Counts),
				Look: off.Dir})
		default:
			say("✓ %s holds", p.Name)
		}
	}
	if len(res.Failures) > 0 {
		// The harm is still there; the contrast run would only repeat it.
		return finish(), nil
	}

	say("running the defect for contrast (fault on) ...")
	on := runner.RunScenario(ctx, lab, sc, runner.ScenarioConfig{FaultOn: true, Seed: cfg.Seed,
		Duration: cfg.Duration, Dir: filepath.Join(cfg.Dir, "on")})
	profile := func(r report.Scenario) string {
		return filepath.Join(r.Dir, evidence.Kind(r.Culprit.Evidence).File())
	}
	frame := sc.Culprit.Frame
	if frame == "" {
		frame = sc.Culprit.Func
	}
	if on.Error != "" || !on.Culprit.Found {
		// Not the learner's doing: the reference defect did not show itself
		// on this machine this time. Say so rather than pass or blame.
		fail(Failure{Expected: fmt.Sprintf("the reference defect to show its culprit %s in the %s profile", frame, sc.Culprit.Evidence),
			Got:  fmt.Sprintf("%.1f%% %s (a busy machine? grade again)", 100*on.Culprit.Share, on.Error),
			Look: profile(on)})
		return finish(), nil
	}
	runner.Contrast(&on, off)
	if !on.Culprit.Found {
		// The harm is gone but the culprit's share did not halve. A goroutine
		// or block profile of a short window holds few samples (one goroutine
		// can be 12% of it), so one more pair of runs decides; a defect that
		// is still there shows in both, and the symptom checks above hold
		// the learner's code to the thresholds regardless.
		say("the culprit's share did not halve (%.1f%% with your code, %.1f%% with the defect); running both once more ...",
			100*off.Culprit.Share, 100*on.Culprit.Share)
		again := runner.RunScenario(ctx, lab, sc, runner.ScenarioConfig{FaultOn: false, Seed: cfg.Seed + 1,
			Duration: cfg.Duration, Dir: filepath.Join(cfg.Dir, "off-2")})
		on = runner.RunScenario(ctx, lab, sc, runner.ScenarioConfig{FaultOn: true, Seed: cfg.Seed + 1,
			Duration: cfg.Duration, Dir: filepath.Join(cfg.Dir, "on-2")})
		if again.Error == "" && !anySymptom(again) && on.Error == "" && on.Culprit.Found {
			off = again
			runner.Contrast(&on, off)
		}
	}
	if !on.Culprit.Found {
		fail(Failure{
			Expected: fmt.Sprintf("%s to carry at most %.1f%% of the %s profile with your code (half of the defect's %.1f%%)",
				culprit.ShortName(frame), 50*on.Culprit.Share, sc.Culprit.Evidence, 100*on.Culprit.Share),
			Got:  fmt.Sprintf("%.1f%%: the culprit still shows", 100*off.Culprit.Share),
			Look: profile(off)})
		return finish(), nil
	}
	say("✓ %s: %.1f%% of the %s profile with your code, %.1f%% with the defect", culprit.ShortName(frame),
		100*off.Culprit.Share, sc.Culprit.Evidence, 100*on.Culprit.Share)
	return finish(), nil
}

func anySymptom(r report.Scenario) bool {
	for _, c := range r.Checks {
		if c.Symptom || c.Missing {
			return true
		}
	}
	for _, p := range r.Properties {
		if !p.Holds {
			return true
		}
	}
	return false
}
