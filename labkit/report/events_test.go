package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

func withEvents() *report.Report {
	r := sample()
	at := func(d time.Duration) timeline.Event {
		return timeline.Event{At: d, Time: r.Started.Add(d), Kind: timeline.Kill, Detail: "node2 (pid 42)"}
	}
	r.Scenarios[0].Events = []timeline.Event{at(1500 * time.Millisecond),
		{At: 2250 * time.Millisecond, Time: r.Started.Add(2250 * time.Millisecond), Kind: timeline.Restart, Detail: "node2 (pid 43)"}}
	return r
}

func TestEventsRoundTripThroughReportJSON(t *testing.T) {
	dir := t.TempDir()
	want := withEvents()
	require.NoError(t, want.WriteAll(dir))
	got, err := report.ReadJSON(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, want.Scenarios[0].Events, got.Scenarios[0].Events)

	raw, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"at_seconds": 1.5`, "offsets are seconds in JSON")
	assert.Contains(t, string(raw), `"kind": "kill"`)
}

func TestEventsAppearInReportAndPostmortemTimeline(t *testing.T) {
	r := withEvents()
	md := r.Markdown()
	assert.Contains(t, md, "| +1.500s | 12:00:01.500Z | kill | node2 (pid 42) |")
	assert.Contains(t, md, "| +2.250s | 12:00:02.250Z | restart | node2 (pid 43) |")

	pm := r.PostmortemDraft()
	lines := strings.Split(pm, "\n")
	var timeline []string
	for i, l := range lines {
		if l == "## Timeline" {
			for _, t := range lines[i+2:] {
				if t == "" {
					break
				}
				timeline = append(timeline, t)
			}
		}
	}
	assert.Equal(t, []string{
		"- 12:00:00Z run started (seed 42)",
		"- 12:00:01.500Z sync-logging: kill node2 (pid 42) (+1.500s)",
		"- 12:00:02.250Z sync-logging: restart node2 (pid 43) (+2.250s)",
		"- 12:00:05Z scenario sync-logging ended: SYMPTOM",
	}, timeline, "events are merged into the elapsed-time timeline in order")
}

func TestAScenarioWithoutEventsKeepsItsTimeline(t *testing.T) {
	pm := sample().PostmortemDraft()
	assert.Contains(t, pm, "- 12:00:05Z scenario sync-logging ended: SYMPTOM")
	assert.NotContains(t, sample().Markdown(), "Events:")
}
