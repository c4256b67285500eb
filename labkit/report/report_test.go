package report_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
)

func sample() *report.Report {
	start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	return &report.Report{
		Schema: report.SchemaVersion, Lab: 0, Title: "Engineering template", Faults: "on", Seed: 42,
		Started: start, Finished: start.Add(20 * time.Second), GoVersion: "go1.26", NumCPU: 2, GOMAXPROCS: 2,
		OSArch: "linux/amd64", Dir: "out/lab-0/x-on", DebugAddr: "127.0.0.1:1",
		Scenarios: []report.Scenario{{
			Fault: "sync-logging", FaultOn: true, Verdict: report.VerdictSymptom,
			Metrics: map[string]float64{"p99_ms": 41.5},
			Checks:  []report.Check{{Metric: "p99_ms", Op: ">", Threshold: 10, Value: 41.5, Unit: "ms", Symptom: true}},
			Culprit: report.Culprit{Func: "logging.(*SyncWriter).Write", Evidence: "mutex", Found: true, Share: 0.9,
				Hint: []culprit.Entry{{Func: "x/logging.(*SyncWriter).Write", Value: 9, Share: 0.9}}},
			Dir: "out/lab-0/x-on/sync-logging", Evidence: []string{"mutex.pprof"}, Next: "go tool pprof -top mutex.pprof",
			ElapsedSeconds: 5,
		}},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := sample()
	require.NoError(t, want.WriteAll(dir))
	got, err := report.ReadJSON(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	for _, f := range []string{report.MarkdownFile, report.PostmortemFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Contains(t, string(b), "sync-logging")
		assert.Contains(t, string(b), "41.5")
	}
}

func TestReadJSONRejectsOtherSchemas(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, report.JSONFile)
	require.NoError(t, os.WriteFile(path, []byte(`{"schema":"something/else"}`), 0o644))
	_, err := report.ReadJSON(path)
	require.ErrorContains(t, err, "want \""+report.SchemaVersion+"\"")

	require.NoError(t, os.WriteFile(path, []byte(`{`), 0o644))
	_, err = report.ReadJSON(path)
	require.Error(t, err)
}

func TestWriteAllReportsAnUnwritableFolder(t *testing.T) {
	err := sample().WriteAll(filepath.Join(t.TempDir(), "does", "not", "exist"))
	require.Error(t, err)
}

func TestPostmortemDraftHasTheTemplateSections(t *testing.T) {
	md := sample().PostmortemDraft()
	for _, h := range []string{"Summary", "Impact", "Detection", "Timeline", "Root cause", "Trigger",
		"Evidence", "Resolution", "Verification", "Lessons", "Action items"} {
		assert.Contains(t, md, "## "+h+"\n")
	}
}
