package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// eventClock is how an event's wall time is printed: milliseconds, because
// a kill and the errors it causes are often within one second.
const eventClock = "15:04:05.000Z"

// writeEvents lists a scenario's events in report.md.
func writeEvents(b *strings.Builder, events []timeline.Event) {
	if len(events) == 0 {
		return
	}
	b.WriteString("Events:\n\n| at | time | event | detail |\n| --- | --- | --- | --- |\n")
	for _, e := range events {
		fmt.Fprintf(b, "| +%.3fs | %s | %s | %s |\n", e.At.Seconds(), e.Time.UTC().Format(eventClock), e.Kind, e.Detail)
	}
	b.WriteString("\n")
}

// timelineOf writes one scenario's lines of the postmortem timeline, its
// events then its end, and returns when it ended. start is when the
// scenario began as far as the report knows (the run's start plus the
// scenarios before it); an event's own clock corrects that, since the
// window opened At before the event.
func timelineOf(b *strings.Builder, s Scenario, start time.Time) time.Time {
	if len(s.Events) > 0 {
		start = s.Events[0].Time.Add(-s.Events[0].At)
	}
	for _, e := range s.Events {
		line := e.Kind
		if e.Detail != "" {
			line += " " + e.Detail
		}
		fmt.Fprintf(b, "- %s %s: %s (+%.3fs)\n", e.Time.UTC().Format(eventClock), s.Fault, line, e.At.Seconds())
	}
	end := start.Add(secs(s.ElapsedSeconds))
	fmt.Fprintf(b, "- %s scenario %s ended: %s\n", end.Format("15:04:05Z"), s.Fault, s.Verdict)
	return end
}
