package labtest_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a testing.TB that keeps the failures instead of failing, so a
// test can assert that an assertion fires.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}

func TestContrastRejectsAFrameBothPathsRun(t *testing.T) {
	sc := runner.Scenario{Fault: "hot-key", Culprit: runner.Culprit{Func: "cache.(*Client).fetch", Evidence: evidence.CPU}}
	result := func(on bool, share float64) report.Scenario {
		return report.Scenario{Fault: "hot-key", FaultOn: on, Dir: "out",
			Culprit: report.Culprit{Evidence: "cpu", Share: share, Found: share >= runner.DefaultMinShare}}
	}
	tests := []struct {
		name     string
		on, off  float64
		wantFail bool
	}{
		{name: "the frame only the defect runs", on: 0.60, off: 0.05},
		{name: "absent with the fault off", on: 0.30, off: 0},
		{name: "exactly half", on: 0.40, off: 0.20},
		{name: "the frame every request runs", on: 0.60, off: 0.55, wantFail: true},
		{name: "just over half", on: 0.40, off: 0.21, wantFail: true},
		{name: "not found with the fault on is Assert's to report", on: 0.10, off: 0.10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			labtest.AssertContrast(r, sc, result(true, tt.on), result(false, tt.off))
			if tt.wantFail {
				assert.Len(t, r.errors, 1)
				assert.Contains(t, r.errors[0], fmt.Sprintf("got %.1f%% on and %.1f%% off", 100*tt.on, 100*tt.off))
				return
			}
			assert.Empty(t, r.errors)
		})
	}
}

func TestCommonSignalsMustBeReportedByEveryScenarioOrNone(t *testing.T) {
	tests := []struct {
		name     string
		traffic  map[string]bool
		wantFail string
	}{
		{name: "every scenario reports traffic", traffic: map[string]bool{"a": true, "b": true}},
		{name: "no scenario does (a lab not yet wired)", traffic: map[string]bool{"a": false, "b": false}},
		{name: "one scenario is silent", traffic: map[string]bool{"a": true, "b": false, "c": true}, wantFail: "got none from b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			labtest.AssertCommonSignals(r, tt.traffic)
			if tt.wantFail == "" {
				assert.Empty(t, r.errors)
				return
			}
			require.Len(t, r.errors, 1)
			assert.Contains(t, r.errors[0], tt.wantFail)
			assert.Contains(t, r.errors[0], "as a, c do")
		})
	}
}
