package exercise

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// parkedWorker is the culprit of the test lab: a goroutine that waits until
// the scenario's cleanup, as a leaked worker would.
func parkedWorker(release <-chan struct{}) { <-release }

// leakLab is a one-fault lab whose fixed path runs "the learner's code":
// fixed says whether that code has the fix.
func leakLab(fixed bool) runner.Lab {
	return runner.Lab{Number: 1, Title: "test", Window: 200 * time.Millisecond, NoTrace: true,
		Scenarios: []runner.Scenario{{
			Fault:       "goroutine-leak",
			Description: "workers are never released",
			Symptom:     "goroutines grow with requests",
			Culprit:     runner.Culprit{Func: "exercise.parkedWorker", Evidence: evidence.Goroutine},
			Checks:      []runner.Check{{Metric: "leaked", Op: runner.Above, Threshold: 30, Unit: "goroutines"}},
			Run: func(ctx context.Context, env *runner.Env) error {
				n := 0
				if env.FaultOn || !fixed {
					n = 200
				}
				release := make(chan struct{})
				env.Cleanup(func() { close(release) })
				for range n {
					go parkedWorker(release)
				}
				env.Record("leaked", float64(n))
				return nil
			},
		}}}
}

func TestGrade(t *testing.T) {
	tests := []struct {
		name   string
		fixed  bool
		passed bool
		want   []string
	}{
		{"the stub fails, naming the symptom", false, false, []string{
			"✗ expected leaked not > 30 goroutines (the symptom: goroutines grow with requests)",
			"got      200 goroutines", "look     go tool pprof", "FAIL: 1 of the fixed path's promises not kept",
			"make lab-1 hint=1"}},
		{"the fix passes", true, true, []string{
			"✓ leaked = 0 goroutines", "running the defect for contrast", "✓ exercise.parkedWorker: 0.0% of the goroutine profile",
			"PASS: the harm is gone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			res, err := Grade(context.Background(), leakLab(tt.fixed), "goroutine-leak",
				GradeConfig{Seed: 1, Dir: t.TempDir(), ReadMe: "lab/README.md"}, &out)
			require.NoError(t, err)
			assert.Equal(t, tt.passed, res.Passed, out.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
			if !tt.passed {
				require.Len(t, res.Failures, 1)
				assert.Equal(t, "200 goroutines", res.Failures[0].Got)
			}
		})
	}
}

func TestGradeUnknownFault(t *testing.T) {
	_, err := Grade(context.Background(), leakLab(true), "nope", GradeConfig{Dir: t.TempDir()}, &strings.Builder{})
	assert.ErrorContains(t, err, `lab 1 has no fault "nope"; valid: [goroutine-leak]`)
}
