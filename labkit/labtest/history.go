package labtest

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// AssertProperties checks a scenario's history checks against the
// contract: with the fault on each property is violated, with it off each
// holds, and none is left undecided.
func AssertProperties(t testing.TB, sc runner.Scenario, res report.Scenario) {
	t.Helper()
	side := "fault " + onOff(res.FaultOn)
	if len(res.Properties) != len(sc.HistoryChecks) {
		t.Errorf("%s, %s: %d history checks declared, %d judged (did the run fail first?)",
			sc.Fault, side, len(sc.HistoryChecks), len(res.Properties))
	}
	for _, p := range res.Properties {
		switch {
		case p.Error != "":
			t.Errorf("%s, %s: %s\n  evidence: %s", sc.Fault, side, p.Error, res.Dir)
		case p.Holds == res.FaultOn:
			want := "violated"
			if !res.FaultOn {
				want = "to hold"
			}
			t.Errorf("%s, %s: expected %q %s, it did not (%s; counts %v)\n  evidence: %s",
				sc.Fault, side, p.Name, want, p.Detail, p.Counts, res.Dir)
		}
	}
}
