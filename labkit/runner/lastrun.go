package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/report"
)

// LastRunFile, under out/lab-N/, summarises the lab's latest run for `make labs`.
const LastRunFile = "last-run.json"

// LastRun is the status `make labs` shows for a lab.
type LastRun struct {
	Faults   string    `json:"faults"`
	Finished time.Time `json:"finished"`
	Dir      string    `json:"dir"`
	Symptoms int       `json:"symptoms"`
	Healthy  int       `json:"healthy"`
	Errors   int       `json:"errors"`
}

func writeLastRun(out string, r *report.Report) error {
	lr := LastRun{Faults: r.Faults, Finished: r.Finished, Dir: r.Dir}
	for _, s := range r.Scenarios {
		switch s.Verdict {
		case report.VerdictSymptom:
			lr.Symptoms++
		case report.VerdictHealthy:
			lr.Healthy++
		default:
			lr.Errors++
		}
	}
	b, err := json.MarshalIndent(lr, "", "  ")
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	return os.WriteFile(filepath.Join(out, fmt.Sprintf("lab-%d", r.Lab), LastRunFile), b, 0o644)
}

// ReadLastRun reads out/lab-N/last-run.json.
func ReadLastRun(out string, lab int) (*LastRun, error) {
	b, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("lab-%d", lab), LastRunFile))
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	var lr LastRun
	if err := json.Unmarshal(b, &lr); err != nil {
		return nil, fmt.Errorf("runner: decode last run: %w", err)
	}
	return &lr, nil
}
