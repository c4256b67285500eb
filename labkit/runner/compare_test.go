package runner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func TestCompareRunsEachScenarioBothWaysAndChartsThem(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	lab := twoFaultLab()
	lab.Scenarios = lab.Scenarios[:1] // one that lasts its window: a chart needs samples
	// A window long enough that the event below lands inside the sampled
	// range even when a loaded machine oversleeps (300 ms missed it 1 run in 20).
	lab.Window = time.Second
	run := lab.Scenarios[0].Run
	lab.Scenarios[0].Run = func(ctx context.Context, env *runner.Env) error {
		time.Sleep(150 * time.Millisecond) // the event lands inside the sampled window
		env.Event("rebalance", "slots moved")
		return run(ctx, env)
	}
	code := runner.Exec(context.Background(), lab, []string{"-out", out, "-fault=compare", "-seed=2"}, &stdout, &stderr)
	require.Equal(t, runner.ExitOK, code, stderr.String())
	matches, err := filepath.Glob(filepath.Join(out, "lab-0", "*-compare", report.JSONFile))
	require.NoError(t, err)
	require.Len(t, matches, 1)
	rep, err := report.ReadJSON(matches[0])
	require.NoError(t, err)
	require.Len(t, rep.Scenarios, 2)
	off, on := rep.Scenarios[0], rep.Scenarios[1]
	assert.False(t, off.FaultOn, "the fixed path runs first")
	assert.Equal(t, report.VerdictHealthy, off.Verdict)
	assert.Equal(t, report.VerdictSymptom, on.Verdict)

	require.NotNil(t, on.Culprit.OffShare, "report.json carries the culprit's share on both paths")
	assert.Less(t, *on.Culprit.OffShare, on.Culprit.Share/2)
	assert.True(t, on.Culprit.Found)
	assert.Contains(t, stdout.String(), "with the fault on,")

	require.NotEmpty(t, on.Charts)
	goroutines := filepath.Join(filepath.Dir(on.Dir), "compare-"+evidence.SeriesGoroutines+".svg")
	assert.Contains(t, on.Charts, goroutines)
	svg, err := os.ReadFile(goroutines)
	require.NoError(t, err)
	assert.Contains(t, string(svg), "fault off")
	assert.Contains(t, string(svg), "fault on")
	assert.Contains(t, string(svg), "rebalance slots moved", "the run's events are markers on its charts")
	assert.Contains(t, on.Charts, filepath.Join(filepath.Dir(on.Dir), "compare-workers_left_behind.svg"), "the lab's own series too")
}

func TestAScenarioSetsItsOwnWindowAndCanDropTheTrace(t *testing.T) {
	lab := toyLab() // Window: 200ms
	sc := lab.Scenarios[0]
	run := sc.Run
	var window time.Duration
	sc.Run = func(ctx context.Context, env *runner.Env) error { window = env.Duration; return run(ctx, env) }

	res := runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{FaultOn: true, Dir: t.TempDir()})
	assert.Equal(t, 200*time.Millisecond, window, "the lab's window")
	assert.Contains(t, res.Evidence, evidence.TraceFile)

	sc.Window, sc.NoTrace = 120*time.Millisecond, true
	res = runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{FaultOn: true, Dir: t.TempDir()})
	assert.Equal(t, 120*time.Millisecond, window, "the scenario's window beats the lab's")
	assert.NotContains(t, res.Evidence, evidence.TraceFile)
	assert.Equal(t, report.VerdictSymptom, res.Verdict)

	res = runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{FaultOn: true, Dir: t.TempDir(), Duration: 90 * time.Millisecond})
	assert.Equal(t, 90*time.Millisecond, window, "duration= beats both")

	lab.NoTrace, sc.NoTrace = true, false
	res = runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{FaultOn: true, Dir: t.TempDir()})
	assert.NotContains(t, res.Evidence, evidence.TraceFile, "the lab can drop the trace for all its scenarios")
}

func TestValidateRejectsABadSignalList(t *testing.T) {
	lab := toyLab()
	lab.Signals = []string{"p99_latency_ms", "p99_latency_ms"}
	assert.ErrorContains(t, lab.Validate(), "listed twice")
	lab.Signals = []string{""}
	assert.ErrorContains(t, lab.Validate(), "empty")
}
