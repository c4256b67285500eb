package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// HistoryCheck is a symptom that is a property of what the clients saw
// rather than a number: the operations the scenario recorded with
// env.History(). With the fault on the property must be violated, with it
// off it must hold — a stale read is not slow, it is wrong.
type HistoryCheck struct {
	Name  string        // e.g. "linearizable", "no acknowledged write lost"
	Check history.Check // e.g. history.Linearizable(history.Register(""), 10*time.Second)
}

// HistoryFile is where the recorded operations are written in the
// scenario's evidence folder.
const HistoryFile = "history.json"

// History is the scenario's operation recorder: every client records each
// operation's invocation and return through it.
func (e *Env) History() *history.Recorder {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.history == nil {
		e.history = history.NewRecorder()
	}
	return e.history
}

// judgeHistory evaluates the scenario's history checks once the run is
// over, writes the history (and whatever the checks write) as evidence, and
// turns a violated property into the SYMPTOM verdict.
func judgeHistory(ctx context.Context, checks []HistoryCheck, env *Env, events []timeline.Event, res *report.Scenario) {
	if len(checks) == 0 {
		return
	}
	h := history.History{Ops: env.History().Ops(), Events: events, Dir: res.Dir}
	if err := writeHistory(res.Dir, h.Ops); err != nil {
		res.Verdict, res.Error = report.VerdictError, err.Error()
	} else {
		res.Evidence = append(res.Evidence, HistoryFile)
	}
	for _, c := range checks {
		v, err := c.Check(ctx, h)
		p := report.Property{Name: c.Name, Holds: v.Holds, Counts: v.Counts, Detail: v.Detail, Files: v.Files}
		res.Evidence = append(res.Evidence, v.Files...)
		switch {
		case err != nil:
			p.Holds, p.Error = false, fmt.Sprintf("history check %s: %v", c.Name, err)
			res.Verdict = report.VerdictError
		case !v.Holds && res.Verdict == report.VerdictHealthy:
			res.Verdict = report.VerdictSymptom
		}
		res.Properties = append(res.Properties, p)
	}
}

func writeHistory(dir string, ops []history.Op) error {
	b, err := json.MarshalIndent(ops, "", "  ")
	if err != nil {
		return fmt.Errorf("runner: encode %s: %w", HistoryFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, HistoryFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	return nil
}
