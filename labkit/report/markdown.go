package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
)

// FormatValue prints a measured value compactly for tables and terminals.
func FormatValue(v float64, unit string) string {
	s := strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	if unit != "" {
		s += " " + unit
	}
	return s
}

// Markdown renders the report for people.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Lab %d — %s: run with fault=%s\n\n", r.Lab, r.Title, r.Faults)
	fmt.Fprintf(&b, "- started %s, finished %s (%s)\n", r.Started.Format("2006-01-02 15:04:05Z"),
		r.Finished.Format("15:04:05Z"), r.Finished.Sub(r.Started).Round(100_000_000))
	fmt.Fprintf(&b, "- seed %d (replay with `seed=%d`)\n", r.Seed, r.Seed)
	fmt.Fprintf(&b, "- %s, %s, %d cores, GOMAXPROCS %d\n\n", r.GoVersion, r.OSArch, r.NumCPU, r.GOMAXPROCS)
	b.WriteString("| scenario | fault | symptom metric | value | threshold | verdict | evidence |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range r.Scenarios {
		for i, c := range s.Checks {
			name, on, verdict, dir := "", "", "", ""
			if i == 0 {
				name, verdict, dir = s.Fault, s.Verdict, "`"+s.Dir+"`"
				on = "off"
				if s.FaultOn {
					on = "on"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s %s | %s | %s |\n", name, on, c.Metric,
				FormatValue(c.Value, c.Unit), c.Op, FormatValue(c.Threshold, c.Unit), verdict, dir)
		}
	}
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "\n## %s\n\n", s.Fault)
		if s.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", s.Description)
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "**Error:** %s\n\n", s.Error)
		}
		writeEvents(&b, s.Events)
		writeProperties(&b, s.Properties)
		b.WriteString("Metrics:\n\n")
		for _, k := range sortedKeys(s.Metrics) {
			fmt.Fprintf(&b, "- `%s` = %s\n", k, FormatValue(s.Metrics[k], ""))
		}
		if len(s.Signals) > 0 {
			b.WriteString("\nCommon signals, beside the fault-free baseline:\n\n| signal | baseline | now |\n| --- | --- | --- |\n")
			for _, sg := range s.Signals {
				name := sg.Name
				if sg.Stat != "" {
					name += " (" + sg.Stat + ")"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, FormatValue(sg.Baseline, ""), FormatValue(sg.Value, ""))
			}
		}
		fmt.Fprintf(&b, "\nCulprit evidence (%s):", s.Culprit.Evidence)
		if s.Culprit.Func != "" {
			found := "not found"
			if s.Culprit.Found {
				found = "found"
			}
			fmt.Fprintf(&b, " the defect lives in `%s`; %s in the %s profile (%.0f%% of it).",
				culprit.ShortName(s.Culprit.Func), found, s.Culprit.Evidence, 100*s.Culprit.Share)
			if s.Culprit.OffShare != nil {
				fmt.Fprintf(&b, " With the fault off it carries %.0f%%.", 100**s.Culprit.OffShare)
			}
		}
		b.WriteString("\n\nThe lab's own functions nearest the cost:\n\n")
		for _, e := range s.Culprit.Hint {
			fmt.Fprintf(&b, "- %5.1f%% `%s`\n", 100*e.Share, culprit.ShortName(e.Func))
		}
		fmt.Fprintf(&b, "\nNext: `%s`\n\nEvidence files: %s\n", s.Next, strings.Join(s.Evidence, ", "))
		if len(s.Charts) > 0 {
			fmt.Fprintf(&b, "\nFault off and on in one picture: %s\n", strings.Join(s.Charts, ", "))
		}
	}
	return b.String()
}

// PostmortemDraft pre-fills the blameless template with this run's facts and
// leaves the analysis to the learner.
func (r *Report) PostmortemDraft() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Postmortem draft: lab %d (%s), fault=%s\n\n", r.Lab, r.Title, r.Faults)
	fmt.Fprintf(&b, "_Generated from `%s`. Replace every TODO; keep the numbers._\n\n", filepath.Join(r.Dir, JSONFile))
	b.WriteString("## Summary\n\nTODO: one paragraph: what broke, for whom, for how long, and the fix.\n\n")
	b.WriteString("## Impact\n\n")
	fmt.Fprintf(&b, "Reproduce: `%s`\n\n", r.Command())
	for _, s := range r.Scenarios {
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "- %s: `%s` = %s (threshold %s %s)\n", s.Fault, c.Metric,
				FormatValue(c.Value, c.Unit), c.Op, FormatValue(c.Threshold, c.Unit))
		}
		impactOfProperties(&b, s)
	}
	b.WriteString("\n## Detection\n\nTODO: which alert or symptom would have paged first? See `docker-env/prometheus/rules/`.\n\n")
	b.WriteString("## Timeline\n\n")
	fmt.Fprintf(&b, "- %s run started (seed %d)\n", r.Started.Format("15:04:05Z"), r.Seed)
	at := r.Started
	for _, s := range r.Scenarios {
		at = timelineOf(&b, s, at)
	}
	b.WriteString("\n## Root cause\n\nTODO: the defect, the function it lives in, and why the code allowed it.\n\n")
	b.WriteString("## Trigger\n\nTODO: the load or event that turned the latent defect into an incident.\n\n")
	b.WriteString("## Evidence\n\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "- %s: `%s`; top own frames in the %s profile:\n", s.Fault, s.Next, s.Culprit.Evidence)
		for _, e := range culprit.Top(s.Culprit.Hint, 3) {
			fmt.Fprintf(&b, "  - %.1f%% `%s`\n", 100*e.Share, culprit.ShortName(e.Func))
		}
	}
	b.WriteString("\n## Resolution\n\nTODO: the fix, and how it was rolled out.\n\n")
	fmt.Fprintf(&b, "## Verification\n\nTODO: rerun on the fixed path (`make lab-%d seed=%d`) and put the before/after numbers here.\n\n", r.Lab, r.Seed)
	b.WriteString("## Lessons\n\nTODO: what went well, what went wrong, where we got lucky.\n\n")
	b.WriteString("## Action items\n\n| action | owner | due |\n| --- | --- | --- |\n| TODO | TODO | TODO |\n")
	return b.String()
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// Command is the make command that reproduces this run.
func (r *Report) Command() string {
	return fmt.Sprintf("make lab-%d fault=%s seed=%d", r.Lab, r.Faults, r.Seed)
}
