package report_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/report"
)

func TestPropertiesAreInEveryReport(t *testing.T) {
	r := &report.Report{Schema: report.SchemaVersion, Faults: "on", Scenarios: []report.Scenario{{
		Fault: "stale-read", FaultOn: true, Verdict: report.VerdictSymptom,
		Properties: []report.Property{
			{Name: "linearizable", Holds: false, Counts: map[string]int{"reads": 3, "writes": 2}, Detail: "no order explains it"},
			{Name: "no acknowledged write lost", Error: "history: undecided"},
		}}}}
	md := r.Markdown()
	assert.Contains(t, md, "| linearizable | **violated** | reads 3, writes 2 | no order explains it |")
	assert.Contains(t, md, "| no acknowledged write lost | error |  | history: undecided |")
	assert.Contains(t, r.PostmortemDraft(), "- stale-read: linearizable violated (reads 3, writes 2)")

	dir := t.TempDir()
	require.NoError(t, r.WriteJSON(dir))
	back, err := report.ReadJSON(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, r.Scenarios[0].Properties, back.Scenarios[0].Properties)
}
