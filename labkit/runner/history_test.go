package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// cachedRegister is the smallest stale read: with the defect, reads are
// served from a copy that is refreshed only every tenth write.
type cachedRegister struct {
	mu     sync.Mutex
	value  string
	cached string
	writes int
	stale  bool
}

func (r *cachedRegister) write(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.value = v
	if r.writes++; !r.stale || r.writes%10 == 0 {
		r.cached = v
	}
}

func (r *cachedRegister) read() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cached
}

func runRegister(ctx context.Context, env *runner.Env) error {
	reg := &cachedRegister{stale: env.FaultOn}
	h := env.History()
	env.Event("start", "register with a read cache")
	for i := range 50 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p := h.Invoke(0, "write", "", strconv.Itoa(i))
		reg.write(strconv.Itoa(i))
		p.OK("")
		r := h.Invoke(1, "read", "", "")
		r.OK(reg.read())
	}
	return nil
}

func registerScenario() runner.Scenario {
	return runner.Scenario{Fault: "stale-cache", Description: "reads are served from a cache refreshed every tenth write",
		Culprit: runner.Culprit{Func: "cachedRegister", Evidence: evidence.CPU},
		HistoryChecks: []runner.HistoryCheck{{Name: "linearizable",
			Check: history.Linearizable(history.Register(""), 5*time.Second)}},
		Run: runRegister}
}

func TestAHistoryCheckIsASymptomWhenItsPropertyIsViolated(t *testing.T) {
	lab := runner.Lab{Number: 9, Title: "history", Scenarios: []runner.Scenario{registerScenario()}}
	require.NoError(t, lab.Validate(), "a scenario may have history checks and no scalar check")
	tests := []struct {
		faultOn bool
		verdict string
		holds   bool
	}{{true, report.VerdictSymptom, false}, {false, report.VerdictHealthy, true}}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "stale-cache")
		res := runner.RunScenario(context.Background(), lab, lab.Scenarios[0], runner.ScenarioConfig{
			FaultOn: tt.faultOn, Seed: 1, Duration: 100 * time.Millisecond, Dir: dir,
			Evidence: evidence.Options{NoTrace: true}})
		require.Empty(t, res.Error)
		assert.Equal(t, tt.verdict, res.Verdict)
		require.Len(t, res.Properties, 1)
		p := res.Properties[0]
		assert.Equal(t, tt.holds, p.Holds, p.Detail)
		assert.Equal(t, 100, p.Counts["operations"])
		assert.Contains(t, res.Evidence, history.LinearizabilityFile)
		assert.Contains(t, res.Evidence, runner.HistoryFile)
		html, err := os.ReadFile(filepath.Join(dir, history.LinearizabilityFile))
		require.NoError(t, err)
		assert.Contains(t, string(html), "register with a read cache", "the run's events annotate the visualization")
		labtest.AssertProperties(t, lab.Scenarios[0], res)

		md := (&report.Report{Scenarios: []report.Scenario{res}}).Markdown()
		assert.Contains(t, md, "| linearizable | ")
	}
}
